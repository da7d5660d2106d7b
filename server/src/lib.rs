//! QR Login server (under construction).
