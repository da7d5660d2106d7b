//! A fresh PostgreSQL schema per test or benchmark run, in the database every
//! machine here has (127.0.0.1:5432, user postgres, trust, database `test`).

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection as _, Row as _};

/// The database the tests and benchmarks use.
pub const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Every schema made here starts with this.
const PREFIX: &str = "qrlogin_test_";

/// Schemas of earlier runs older than this are dropped by later runs.
const STALE_SCHEMA_SECS: u64 = 3600;

/// Creates a new, empty schema in the test database and returns a URL whose
/// connections use it (`search_path`). Also drops the schemas that runs more
/// than an hour ago left behind.
///
/// # Panics
/// When PostgreSQL is not running there (a test cannot go on without it).
pub async fn fresh_schema() -> String {
    sqlx::any::install_default_drivers();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let schema = format!(
        "{PREFIX}{}_{}_{}",
        now.as_secs(),
        now.subsec_nanos(),
        std::process::id()
    );
    let mut conn = sqlx::AnyConnection::connect(POSTGRES_URL)
        .await
        .expect("PostgreSQL must be running on 127.0.0.1:5432 (user postgres, database test)");
    let old = sqlx::query(
        "SELECT schema_name::text FROM information_schema.schemata WHERE schema_name LIKE 'qrlogin\\_test\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for row in old {
        let name: String = row.try_get(0).unwrap();
        if created_secs(&name).is_some_and(|c| c + STALE_SCHEMA_SECS < now.as_secs()) {
            // Another process may drop it at the same moment: ignore errors.
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(&mut conn)
                .await;
        }
    }
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    format!("{POSTGRES_URL}?options=-c%20search_path%3D{schema}")
}

/// `qrlogin_test_<secs>_…` → secs.
fn created_secs(schema: &str) -> Option<u64> {
    schema.strip_prefix(PREFIX)?.split('_').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_when_a_schema_was_made_from_its_name() {
        assert_eq!(
            created_secs("qrlogin_test_1700000000_5_42"),
            Some(1_700_000_000)
        );
        assert_eq!(created_secs("public"), None);
        assert_eq!(created_secs("qrlogin_test_x_1"), None);
    }
}
