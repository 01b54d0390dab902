//! The fake's one guild (channels, roles, members, the bot) and its other knobs.

use super::*;

/// What the fake's one guild contains. All channels are text channels (type 0).
#[derive(Clone, Debug)]
pub struct FakeGuild {
    /// Guild id.
    pub id: u64,
    /// Guild name.
    pub name: String,
    /// The owner; serenity grants the owner every permission.
    pub owner_id: u64,
    /// Text channels, in display order.
    pub channels: Vec<FakeChannel>,
    /// Roles, including `@everyone` (whose id must equal the guild id).
    pub roles: Vec<FakeRole>,
    /// Members other than the bot.
    pub members: Vec<FakeMember>,
    /// The bot's user id.
    pub bot_user_id: u64,
    /// The bot's user name.
    pub bot_name: String,
    /// Roles the bot member has besides `@everyone`.
    pub bot_role_ids: Vec<u64>,
    /// The bot's application id (used in READY, commands and interaction webhooks).
    pub application_id: u64,
}

/// A text channel of the guild.
#[derive(Clone, Debug)]
pub struct FakeChannel {
    /// Channel id.
    pub id: u64,
    /// Channel name, without `#`.
    pub name: String,
}

/// A role of the guild.
#[derive(Clone, Debug)]
pub struct FakeRole {
    /// Role id.
    pub id: u64,
    /// Role name (`@everyone` for the everyone role).
    pub name: String,
    /// What the role grants.
    pub permissions: Permissions,
}

/// A (human or bot) member of the guild.
#[derive(Clone, Debug)]
pub struct FakeMember {
    /// User id.
    pub user_id: u64,
    /// User name.
    pub name: String,
    /// Roles besides `@everyone`.
    pub role_ids: Vec<u64>,
    /// Whether the user is a bot.
    pub bot: bool,
}

impl FakeGuild {
    /// The permissions `@everyone` has in [`FakeGuild::default_test_guild`]: enough for the bot
    /// to answer in channels and threads with embeds and files.
    pub fn default_everyone_permissions() -> Permissions {
        Permissions::SEND_MESSAGES
            | Permissions::VIEW_CHANNEL
            | Permissions::READ_MESSAGE_HISTORY
            | Permissions::CREATE_PUBLIC_THREADS
            | Permissions::SEND_MESSAGES_IN_THREADS
            | Permissions::EMBED_LINKS
            | Permissions::ATTACH_FILES
    }

    /// The guild most tests use; every id is in [`ids`].
    ///
    /// Channels `qa`, `general`, `advisers`, `announcements`; roles `@everyone` (see
    /// [`FakeGuild::default_everyone_permissions`]), `adviser`, `organiser`; members `supplier`
    /// (no roles), `adviser`, `organiser` (also the owner) and `otherbot` (a bot). The bot is
    /// `anbud` with no extra roles.
    pub fn default_test_guild() -> Self {
        let channel = |id, name: &str| FakeChannel {
            id,
            name: name.to_owned(),
        };
        let member = |user_id, name: &str, role_ids: Vec<u64>, bot| FakeMember {
            user_id,
            name: name.to_owned(),
            role_ids,
            bot,
        };
        FakeGuild {
            id: ids::GUILD,
            name: "Anbud test".to_owned(),
            owner_id: ids::ORGANISER_USER,
            channels: vec![
                channel(ids::QA_CHANNEL, "qa"),
                channel(ids::GENERAL_CHANNEL, "general"),
                channel(ids::ADVISERS_CHANNEL, "advisers"),
                channel(ids::ANNOUNCEMENTS_CHANNEL, "announcements"),
            ],
            roles: vec![
                FakeRole {
                    id: ids::EVERYONE_ROLE,
                    name: "@everyone".to_owned(),
                    permissions: Self::default_everyone_permissions(),
                },
                FakeRole {
                    id: ids::ADVISER_ROLE,
                    name: "adviser".to_owned(),
                    permissions: Permissions::MANAGE_THREADS,
                },
                FakeRole {
                    id: ids::ORGANISER_ROLE,
                    name: "organiser".to_owned(),
                    permissions: Permissions::MANAGE_THREADS
                        | Permissions::MANAGE_MESSAGES
                        | Permissions::MANAGE_GUILD,
                },
            ],
            members: vec![
                member(ids::SUPPLIER_USER, "supplier", vec![], false),
                member(ids::ADVISER_USER, "adviser", vec![ids::ADVISER_ROLE], false),
                member(
                    ids::ORGANISER_USER,
                    "organiser",
                    vec![ids::ORGANISER_ROLE],
                    false,
                ),
                member(ids::OTHER_BOT_USER, "otherbot", vec![], true),
            ],
            bot_user_id: ids::BOT_USER,
            bot_name: "anbud".to_owned(),
            bot_role_ids: vec![],
            application_id: ids::APPLICATION,
        }
    }

    /// The id of the channel with this name; panics if there is none.
    pub fn channel_id(&self, name: &str) -> u64 {
        self.channels
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("the fake guild has no channel named {name:?}"))
            .id
    }

    /// The id of the role with this name; panics if there is none.
    pub fn role_id(&self, name: &str) -> u64 {
        self.roles
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("the fake guild has no role named {name:?}"))
            .id
    }

    /// The member with this user id (not the bot).
    pub fn member(&self, user_id: u64) -> Option<&FakeMember> {
        self.members.iter().find(|m| m.user_id == user_id)
    }

    pub(super) fn is_member(&self, user_id: u64) -> bool {
        user_id == self.bot_user_id || self.member(user_id).is_some()
    }

    pub(super) fn role_ids_of(&self, user_id: u64) -> Vec<u64> {
        if user_id == self.bot_user_id {
            self.bot_role_ids.clone()
        } else {
            self.member(user_id)
                .map(|m| m.role_ids.clone())
                .unwrap_or_default()
        }
    }

    /// Guild-wide permissions of a member: `@everyone` plus their roles (everything for the
    /// owner or an administrator).
    pub fn permissions_of(&self, user_id: u64) -> Permissions {
        if user_id == self.owner_id {
            return Permissions::all();
        }
        let role_ids = self.role_ids_of(user_id);
        let perms = self
            .roles
            .iter()
            .filter(|r| r.id == self.id || role_ids.contains(&r.id))
            .fold(Permissions::empty(), |acc, r| acc | r.permissions);
        if perms.contains(Permissions::ADMINISTRATOR) {
            Permissions::all()
        } else {
            perms
        }
    }

    pub(super) fn name_and_bot_flag(&self, user_id: u64) -> (String, bool) {
        if user_id == self.bot_user_id {
            (self.bot_name.clone(), true)
        } else if let Some(m) = self.member(user_id) {
            (m.name.clone(), m.bot)
        } else {
            (format!("user{user_id}"), false)
        }
    }
}

/// Knobs that are not about the guild.
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// The token the fake accepts (without `Bot `).
    pub token: String,
    /// Sent in HELLO. Discord's is 41.25 s; make it short to see heartbeats in a test.
    pub heartbeat_interval: Duration,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            token: TOKEN.to_owned(),
            heartbeat_interval: Duration::from_millis(41_250),
        }
    }
}
