//! Fuzz target `onepassword_page`: see `siemtap_fuzz::onepassword_page` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| siemtap_fuzz::onepassword_page(data));
