//! `qrlogin-server users add|list|remove`.

use std::io::BufRead as _;

use anyhow::{Context as _, bail};
use qrlogin_server::accounts::Accounts;
use qrlogin_server::db::{Database, DatabaseTarget};
use qrlogin_server::passwords::Hasher;
use qrlogin_server::{Clock, UsersArgs, UsersCommand};

pub async fn run(args: UsersArgs) -> anyhow::Result<()> {
    let target = DatabaseTarget::parse(&args.database.database_url)?;
    let db = Database::connect(&target)
        .await
        .context("opening the user database")?;
    let users = Accounts::new(db, Clock::system(), Hasher::new(Hasher::default_limit()))
        .await
        .context("preparing password hashing")?;
    match args.command {
        UsersCommand::Add {
            username,
            display_name,
            avatar_url,
            password_stdin,
            email,
        } => {
            let password = read_password(password_stdin)?;
            let display_name = display_name.unwrap_or_else(|| username.clone());
            let user = users
                .add(&username, &display_name, password, avatar_url, email)
                .await
                .with_context(|| format!("adding user `{username}`"))?;
            println!(
                "added {} ({}), id {}",
                user.username, user.display_name, user.id
            );
        }
        UsersCommand::List => {
            for user in users.list().await.context("listing users")? {
                println!("{}\t{}\t{}", user.username, user.display_name, user.id);
            }
        }
        UsersCommand::Remove { username } => {
            if !users.remove(&username).await.context("removing the user")? {
                bail!("no user named `{username}`");
            }
            println!("removed {username} and their app sessions");
        }
    }
    Ok(())
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let again = rpassword::prompt_password("Again: ").context("reading the password")?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    };
    if password.is_empty() {
        bail!("the password must not be empty");
    }
    Ok(password)
}
