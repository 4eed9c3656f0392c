//! Fuzz target `proofpoint_page`: see `siemtap_fuzz::proofpoint_page` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| siemtap_fuzz::proofpoint_page(data));
