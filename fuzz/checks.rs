//! The properties each fuzz target checks. Shared with the regression test
//! `core/tests/fuzz_regressions.rs`, which replays every saved crash input.

use qrlogin_core::{
    ApiError, LoginQr, Origin, SignInRequest, StatusQuery, StatusView, Ticket, TicketId,
};

/// `LoginQr::parse`, `Origin::parse` and `TicketId::parse` never panic, and
/// whatever parses prints back to a text that parses to the same value.
pub fn login_qr_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(qr) = LoginQr::parse(text) {
        assert_eq!(LoginQr::parse(&qr.to_string()).as_ref(), Ok(&qr));
    }
    if let Ok(origin) = Origin::parse(text) {
        assert_eq!(Origin::parse(&origin.to_string()), Ok(origin));
    }
    if let Ok(id) = TicketId::parse(text) {
        assert_eq!(id.to_string(), text);
    }
}

fn round_trip<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = serde_json::from_slice::<T>(data) {
        let text = serde_json::to_string(&value).expect("a parsed value serializes");
        let again: T = serde_json::from_str(&text).expect("serialized text parses");
        assert_eq!(again, value);
    }
}

/// Every JSON body and query the server parses, on arbitrary bytes: never
/// panic; what parses serializes and parses back to the same value.
pub fn wire_json(data: &[u8]) {
    round_trip::<SignInRequest>(data);
    round_trip::<StatusQuery>(data);
    round_trip::<StatusView>(data);
    round_trip::<ApiError>(data);
    round_trip::<Ticket>(data);
}
