// QR Login SDK (under construction).
export {};
