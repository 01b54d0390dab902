//! "Sign in with Discord" against the fake OAuth2 endpoints: the roles decide the
//! pages, a member without a role is refused, and the roles are read again once they
//! are older than ten minutes.

use anbud::config::Settings;

use super::fake_oauth::{self, FakeOauth};
use super::{session_cookie, Site};
use crate::store::TestDb;

fn discord_settings(s: &mut Settings, fake: &FakeOauth) {
    s.web.discord_client_id = fake_oauth::CLIENT_ID.into();
    s.web.discord_guild = Some(fake_oauth::GUILD);
    s.web.public_url = "http://127.0.0.1:1".into();
    s.web.discord_authorize_url = fake.authorize_url();
    s.web.discord_api_url = fake.api_url();
    s.discord.adviser_roles = vec![fake_oauth::ADVISER_ROLE];
    s.discord.organiser_roles = vec![fake_oauth::ORGANISER_ROLE];
}

/// Follows the sign-in as a browser would: our /auth/discord, the fake's consent
/// page, our callback with the state cookie. Returns the callback's response.
async fn sign_in(site: &Site, user: &str, fake: &FakeOauth) -> reqwest::Response {
    fake.sign_in_as(user);
    let start = site
        .client
        .get(format!("{}/auth/discord?next=/stats", site.base))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let state_cookie = start.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(state_cookie.starts_with("anbud_oauth="), "{state_cookie}");
    let consent = start.headers()["location"].to_str().unwrap().to_string();
    assert!(consent.starts_with(&fake.authorize_url()), "{consent}");
    let back = site.client.get(&consent).send().await.unwrap();
    let callback = back.headers()["location"]
        .to_str()
        .unwrap()
        .replace("http://127.0.0.1:1", &site.base);
    site.client
        .get(callback)
        .header("cookie", state_cookie)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_roles_decide_and_are_checked_again() {
    let fake = FakeOauth::start().await;
    fake.set_user("501", "Ada", Some(vec![fake_oauth::ADVISER_ROLE]));
    fake.set_user("502", "Olga", Some(vec![fake_oauth::ORGANISER_ROLE, 7]));
    fake.set_user("503", "Sam Supplier", Some(vec![7]));
    fake.set_user("504", "Outsider", None);
    let f = fake.clone();
    let site =
        Site::start_with_secret(TestDb::sqlite().await, Some(fake_oauth::SECRET), move |s| {
            discord_settings(s, &f)
        })
        .await;

    let page = site.get("/login", None).await.text().await.unwrap();
    assert!(page.contains("Sign in with Discord"), "{page}");

    // An adviser: the adviser pages, not the organiser ones; back to where they were going.
    let response = sign_in(&site, "501", &fake).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/stats");
    let ada = session_cookie(&response).unwrap();
    assert_eq!(site.get("/queue", Some(&ada)).await.status(), 200);
    assert_eq!(site.get("/announcements", Some(&ada)).await.status(), 403);
    let audit = site.store().audit_log(5).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "web_sign_in" && a.actor == "Ada" && a.target == "discord"),
        "{audit:?}"
    );

    let olga = session_cookie(&sign_in(&site, "502", &fake).await).unwrap();
    assert_eq!(site.get("/announcements", Some(&olga)).await.status(), 200);
    assert_eq!(site.get("/queue", Some(&olga)).await.status(), 403);

    // No role, or not in the server: refused, no session.
    for user in ["503", "504"] {
        let response = sign_in(&site, user, &fake).await;
        assert_eq!(response.status(), 403, "{user}");
        assert!(session_cookie(&response).is_none());
    }

    // A callback whose state was not started in this browser is refused.
    let code = fake.code_for("501");
    let forged = site
        .client
        .get(format!("{}/auth/callback?code={code}&state=abc", site.base))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(session_cookie(&forged).is_none());

    // Within ten minutes the roles are not read again; after, they are.
    let calls = fake.member_calls();
    assert_eq!(site.get("/queue", Some(&ada)).await.status(), 200);
    assert_eq!(fake.member_calls(), calls);
    age_role_checks(&site, 11).await;
    assert_eq!(site.get("/queue", Some(&ada)).await.status(), 200);
    assert_eq!(
        fake.member_calls(),
        calls + 1,
        "read again after ten minutes"
    );
    // Ada loses the role: the next request after the re-check interval signs her out.
    fake.set_user("501", "Ada", Some(vec![7]));
    age_role_checks(&site, 11).await;
    let response = site.get("/queue", Some(&ada)).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        site.get("/queue", Some(&ada)).await.status(),
        303,
        "the session is gone"
    );
    let audit = site.store().audit_log(5).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "web_sign_out" && a.actor == "Ada"),
        "{audit:?}"
    );
}

/// Moves every session's last role check `minutes` into the past.
async fn age_role_checks(site: &Site, minutes: i64) {
    use sqlx::Connection;
    let url = site.app.settings.database.url.clone();
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let at = chrono::Utc::now() - chrono::TimeDelta::minutes(minutes);
    sqlx::query("UPDATE web_sessions SET roles_checked_at = $1")
        .bind(at)
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_secret_discord_sign_in_is_off() {
    let fake = FakeOauth::start().await;
    let f = fake.clone();
    let site = Site::start_with_secret(TestDb::sqlite().await, None, move |s| {
        discord_settings(s, &f)
    })
    .await;
    assert_eq!(site.get("/auth/discord", None).await.status(), 404);
    let page = site.get("/login", None).await.text().await.unwrap();
    assert!(!page.contains("Sign in with Discord"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_https_the_cookie_is_secure() {
    let site = Site::start(TestDb::sqlite().await, |s| {
        s.web.public_url = "https://anbud.example.org".into()
    })
    .await;
    let response = site.client.get(site.web.login_url()).send().await.unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}
