//! Fuzz target `connector_file`: see `siemtap_fuzz::connector_file` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| siemtap_fuzz::connector_file(data));
