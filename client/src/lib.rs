//! QR Login app-side client (under construction).
