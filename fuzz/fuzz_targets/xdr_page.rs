//! Fuzz target `xdr_page`: see `siemtap_fuzz::xdr_page` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| siemtap_fuzz::xdr_page(data));
