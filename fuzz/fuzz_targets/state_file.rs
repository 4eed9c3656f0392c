//! Fuzz target `state_file`: see `siemtap_fuzz::state_file` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| siemtap_fuzz::state_file(data));
