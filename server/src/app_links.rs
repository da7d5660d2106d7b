//! The documents that let a phone open `https://<server>/q/<id>` in the QR
//! Login app instead of the browser: Android App Links
//! (`/.well-known/assetlinks.json`, Digital Asset Links) and Apple
//! Universal Links (`/.well-known/apple-app-site-association`). Served only
//! when the app's identity is configured (`--android-app-id` with
//! `--android-cert-sha256`, `--ios-app-id`).

use serde_json::{Value, json};

/// The app's identity on each platform, validated at start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppLinks {
    /// Package name and the SHA-256 fingerprints of its signing certificates
    /// (`AB:CD:…`, upper case).
    pub android: Option<(String, Vec<String>)>,
    /// `TEAMID.bundle.id`.
    pub ios: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppLinksError {
    #[error("--android-app-id `{0}` is not an Android package name (com.example.app)")]
    AndroidId(String),
    #[error("--android-cert-sha256 `{0}` is not a SHA-256 fingerprint (32 hex bytes, AB:CD:…)")]
    Fingerprint(String),
    #[error("--android-app-id and --android-cert-sha256 go together")]
    AndroidIncomplete,
    #[error("--ios-app-id `{0}` is not TEAMID.bundle.id (a 10-character team id)")]
    IosId(String),
}

impl AppLinks {
    pub fn parse(
        android_id: Option<&str>,
        fingerprints: &[String],
        ios_id: Option<&str>,
    ) -> Result<Self, AppLinksError> {
        let android = match (android_id, fingerprints.is_empty()) {
            (None, true) => None,
            (Some(id), false) => {
                if !is_package_name(id) {
                    return Err(AppLinksError::AndroidId(id.into()));
                }
                let prints = fingerprints
                    .iter()
                    .map(|f| fingerprint(f).ok_or_else(|| AppLinksError::Fingerprint(f.clone())))
                    .collect::<Result<_, _>>()?;
                Some((id.to_string(), prints))
            }
            _ => return Err(AppLinksError::AndroidIncomplete),
        };
        let ios = ios_id
            .map(|id| {
                let ok = id.split_once('.').is_some_and(|(team, bundle)| {
                    team.len() == 10
                        && team.bytes().all(|b| b.is_ascii_alphanumeric())
                        && is_package_name(bundle)
                });
                if ok {
                    Ok(id.to_string())
                } else {
                    Err(AppLinksError::IosId(id.into()))
                }
            })
            .transpose()?;
        Ok(Self { android, ios })
    }

    /// `assetlinks.json`: the app may handle every URL of this site.
    pub fn assetlinks(&self) -> Option<Value> {
        let (package, prints) = self.android.as_ref()?;
        Some(json!([{
            "relation": ["delegate_permission/common.handle_all_urls"],
            "target": {
                "namespace": "android_app",
                "package_name": package,
                "sha256_cert_fingerprints": prints,
            },
        }]))
    }

    /// `apple-app-site-association`: the app opens the sign-in links
    /// (`/q/*`), in the current (`appIDs`, `components`) and the older
    /// (`appID`, `paths`) form.
    pub fn apple_app_site_association(&self) -> Option<Value> {
        let id = self.ios.as_ref()?;
        Some(json!({
            "applinks": {
                "apps": [],
                "details": [{
                    "appIDs": [id],
                    "components": [{"/": "/q/*", "comment": "QR Login sign-in codes"}],
                    "appID": id,
                    "paths": ["/q/*"],
                }],
            },
        }))
    }
}

/// `com.example.app`: two or more dot-separated Java identifiers.
fn is_package_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// A SHA-256 fingerprint with or without colons, as `AB:CD:…`.
fn fingerprint(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let upper = hex.to_ascii_uppercase();
    let pairs: Vec<&str> = (0..32).map(|i| &upper[2 * i..2 * i + 2]).collect();
    Some(pairs.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINT: &str = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5";

    #[test]
    fn nothing_is_served_unless_configured() {
        let links = AppLinks::parse(None, &[], None).unwrap();
        assert_eq!(links.assetlinks(), None);
        assert_eq!(links.apple_app_site_association(), None);
    }

    #[test]
    fn assetlinks_names_the_package_and_its_certificates() {
        let bare = PRINT.replace(':', "").to_lowercase();
        let links = AppLinks::parse(Some("org.qrlogin.app"), &[bare], None).unwrap();
        let doc = links.assetlinks().unwrap();
        assert_eq!(doc[0]["target"]["package_name"], "org.qrlogin.app");
        assert_eq!(doc[0]["target"]["sha256_cert_fingerprints"][0], PRINT);
        assert_eq!(
            doc[0]["relation"][0],
            "delegate_permission/common.handle_all_urls"
        );
    }

    #[test]
    fn apple_association_opens_the_sign_in_links() {
        let links = AppLinks::parse(None, &[], Some("ABCDE12345.org.qrlogin.app")).unwrap();
        let doc = links.apple_app_site_association().unwrap();
        let details = &doc["applinks"]["details"][0];
        assert_eq!(details["appIDs"][0], "ABCDE12345.org.qrlogin.app");
        assert_eq!(details["components"][0]["/"], "/q/*");
        assert_eq!(details["paths"][0], "/q/*");
    }

    #[test]
    fn malformed_identities_are_refused() {
        let prints = vec![PRINT.to_string()];
        assert!(AppLinks::parse(Some("app"), &prints, None).is_err());
        assert!(AppLinks::parse(Some("org.x"), &["AB:CD".into()], None).is_err());
        assert!(AppLinks::parse(Some("org.x"), &[], None).is_err());
        assert!(AppLinks::parse(None, &prints, None).is_err());
        assert!(AppLinks::parse(None, &[], Some("org.qrlogin.app")).is_err());
    }
}
