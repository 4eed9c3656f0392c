//! Wazuh artefacts for siemtap: the rules model, rule generation per connector, a checker
//! that rejects what Wazuh would reject or silently mishandle, an offline rule evaluator
//! that runs Wazuh INI rule tests, a client for a manager's logtest socket ([`logtest`]), the
//! `ossec.conf` wodle stanza and the install layout.
//!
//! No 4.x decoder is generated or needed: siemtap events are one-line JSON objects starting
//! `{"`, which Wazuh's stock `json` decoder decodes (see [`generate`]). Wazuh 5.x content (an
//! integration, a decoder and Sigma rules migrated from the 4.x rules) and its offline checks
//! are in [`wazuh5`].

pub mod blocks;
pub mod check;
pub mod engine;
pub mod flatten;
pub mod generate;
pub mod ini;
pub mod install;
mod install_exec;
pub mod install_files;
pub mod logtest;
pub mod model;
pub mod osregex;
pub mod ossec_conf;
pub mod ossec_merge;
pub mod parse;
pub mod pcre;
pub mod render;
pub mod testgen;
pub mod wazuh5;
pub mod xml;
