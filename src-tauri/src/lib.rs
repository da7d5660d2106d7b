//! QR Login scanner app (under construction).
