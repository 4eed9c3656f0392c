//! Fuzz target `secrets_file`: see `siemtap_fuzz::secrets_file` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| siemtap_fuzz::secrets_file(data));
