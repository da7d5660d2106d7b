//! How a user is shown: to the app and to the page after the exchange (their
//! profile, with an avatar URL), and to the page before it (a ticket's user,
//! with no URL that names them).

use qrlogin_core::{Origin, TicketUser, UserProfile};

use crate::avatar;
use crate::db::users::User;

/// The picture to show for a user: their own, or their initials avatar.
pub fn avatar_url(user: &User, public_url: &Origin) -> String {
    user.avatar_url
        .clone()
        .unwrap_or_else(|| format!("{public_url}/avatars/{}.svg", user.id))
}

pub fn profile(user: &User, public_url: &Origin) -> UserProfile {
    UserProfile {
        id: user.id.0.clone(),
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        avatar_url: Some(avatar_url(user, public_url)),
    }
}

/// The user as a ticket records them (what the page may show, plus the id).
/// The page sees the avatar before the exchange, so a user without a
/// picture gets the initials image inline: no URL with their id.
pub fn ticket_user(user: &User) -> TicketUser {
    let avatar_url = user
        .avatar_url
        .clone()
        .unwrap_or_else(|| avatar::initials_data_url(&user.display_name, &user.id.0));
    TicketUser {
        id: user.id.clone(),
        display_name: user.display_name.clone(),
        avatar_url: Some(avatar_url),
    }
}
