//! `qrlogin-server clients add|list|remove` and `qrlogin-server keys rotate`.

use anyhow::{Context as _, bail};
use qrlogin_core::oidc::ClientKind;
use qrlogin_server::db::{Database, DatabaseTarget};
use qrlogin_server::oidc::clients::{self, Registration};
use qrlogin_server::server::key_path;
use qrlogin_server::{ClientsArgs, ClientsCommand, Clock, KeysArgs, KeysCommand};

pub async fn run(args: ClientsArgs) -> anyhow::Result<()> {
    let target = DatabaseTarget::parse(&args.database.database_url)?;
    let db = Database::connect(&target)
        .await
        .context("opening the database")?;
    match args.command {
        ClientsCommand::Add {
            name,
            redirect_uris,
            public,
            id_token_alg,
        } => {
            let registration = Registration {
                name: &name,
                redirect_uris: &redirect_uris,
                kind: if public {
                    ClientKind::Public
                } else {
                    ClientKind::Confidential
                },
                id_token_alg,
                id: None,
            };
            let registered = clients::register(&db, &Clock::system(), registration)
                .await
                .with_context(|| format!("registering the client `{name}`"))?;
            println!("{}", serde_json::to_string(&registered)?);
        }
        ClientsCommand::List => {
            for stored in clients::list(&db).await.context("listing clients")? {
                let client = stored.client;
                let uris: Vec<&str> = client.redirect_uris.iter().map(|u| u.as_str()).collect();
                let kind = match client.kind {
                    ClientKind::Public => "public",
                    ClientKind::Confidential => "confidential",
                };
                println!(
                    "{}\t{kind}\t{}\t{}\t{}",
                    client.id,
                    client.id_token_alg,
                    client.name,
                    uris.join(" ")
                );
            }
        }
        ClientsCommand::Remove { client_id } => {
            if !clients::remove(&db, &client_id)
                .await
                .context("removing the client")?
            {
                bail!("no client with id `{client_id}`");
            }
            println!("removed client {client_id}");
        }
    }
    Ok(())
}

pub fn keys(args: KeysArgs) -> anyhow::Result<()> {
    let target = DatabaseTarget::parse(&args.database.database_url)?;
    let base = key_path(args.jwt_key.as_deref(), &target);
    match args.command {
        KeysCommand::Rotate => {
            let kids = qrlogin_server::keys::rotate(&base, time::OffsetDateTime::now_utc())
                .with_context(|| format!("rotating the keys beside {}", base.display()))?;
            println!(
                "new id_token signing keys: {}; restart the server to use them",
                kids.join(", ")
            );
        }
    }
    Ok(())
}
