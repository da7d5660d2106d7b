//! End-to-end tests of `qrlogin-client` and the `qrlogin` CLI against a real
//! `qrlogin-server` process, plus decode tests on generated images.

#[path = "../synth/mod.rs"]
mod synth;

mod support;

mod cli;
mod decode;
mod labelled_set;
mod origin_safety;
mod security;
mod session;
