use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The error loading the defaults with these environment variables gives.
fn load_error(pairs: &[(&str, &str)]) -> String {
    Settings::from_sources(None, &env(pairs), &Overrides::default())
        .unwrap_err()
        .to_string()
}

/// The settings the defaults with these environment variables give.
fn load_ok(pairs: &[(&str, &str)]) -> Settings {
    Settings::from_sources(None, &env(pairs), &Overrides::default()).unwrap()
}

#[test]
fn the_time_zone_is_parsed_when_the_configuration_is_read() {
    assert_eq!(Settings::defaults().timezone(), chrono_tz::Europe::Oslo);
    let s = load_ok(&[("ANBUD__ANNOUNCEMENTS__TIMEZONE", "Europe/Stockholm")]);
    assert_eq!(s.announcements.timezone, chrono_tz::Europe::Stockholm);
    let err = load_error(&[("ANBUD__ANNOUNCEMENTS__TIMEZONE", "Europe/Bergen")]);
    assert!(err.contains("timezone"), "{err}");
    assert!(
        err.contains("\"Europe/Bergen\" is not a time zone name"),
        "{err}"
    );
}

#[test]
fn defaults_load() {
    let s = Settings::defaults();
    assert_eq!(s.knowledge.dir, PathBuf::from("knowledge"));
    assert!(s.discord.qa_channels.is_empty());
    assert!(s.database.url.starts_with("sqlite:"));
}

#[test]
fn environment_overrides_with_ids_as_strings() {
    let s = Settings::from_sources(
        None,
        &env(&[
            ("ANBUD__DISCORD__QA_CHANNELS", "123456789012345678, 42"),
            ("ANBUD__ANSWER__THRESHOLD", "0.7"),
        ]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(s.discord.qa_channels, vec![123456789012345678, 42]);
    assert!((s.answer.threshold.unwrap() - 0.7).abs() < 1e-6);
}

#[test]
fn bad_values_name_their_key() {
    let err = Settings::from_sources(
        None,
        &env(&[("ANBUD__DISCORD__ADVISER_CHANNEL", "general")]),
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("adviser_channel") && err.contains("general"),
        "{err}"
    );
    let err = Settings::from_sources(
        None,
        &env(&[("ANBUD__ANSWER__THRESHOLD", "3")]),
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("answer.threshold"), "{err}");
    let err = Settings::from_sources(
        None,
        &env(&[("ANBUD__DATABASE__URL", "mysql://user:hunter2@host/db")]),
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("database.url") && !err.contains("hunter2"),
        "{err}"
    );
}

#[test]
fn shard_settings_are_checked() {
    let load =
        |pairs: &[(&str, &str)]| Settings::from_sources(None, &env(pairs), &Overrides::default());
    assert_eq!(load(&[]).unwrap().discord.shards(), None);
    let s = load(&[("ANBUD__DISCORD__SHARD_TOTAL", "4")]).unwrap();
    assert_eq!(s.discord.shards(), Some((0, 3, 4)));
    let s = load(&[
        ("ANBUD__DISCORD__SHARD_TOTAL", "4"),
        ("ANBUD__DISCORD__SHARD_RANGE", "2, 3"),
    ])
    .unwrap();
    assert_eq!(s.discord.shards(), Some((2, 3, 4)));
    for (total, range) in [("4", "3, 4"), ("4", "2, 1"), ("0", "0, 0"), ("4", "1")] {
        let err = load(&[
            ("ANBUD__DISCORD__SHARD_TOTAL", total),
            ("ANBUD__DISCORD__SHARD_RANGE", range),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("discord.shard_range"),
            "{total} {range}: {err}"
        );
    }
}

#[test]
fn quoted_values_are_hidden_unless_harmless() {
    let token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456";
    let message = format!("invalid type: string \"{token}\", expected a floating point number for key `answer.threshold`");
    let redacted = redact(&message);
    assert!(!redacted.contains(token), "{redacted}");
    assert!(
        redacted.contains("`answer.threshold`") && redacted.contains("65 characters"),
        "{redacted}"
    );
    assert_eq!(
        redact("unknown variant `treads`, expected `reply` or `thread`"),
        "unknown variant `treads`, expected `reply` or `thread`"
    );
    assert!(!redact("\"postgres://u:pw@h/db\" is not valid").contains("pw"));
    assert!(!redact("\"hunter2:x\"").contains("hunter2"));
    assert!(redact("for key `discord.rate_limit_per_minute`")
        .contains("`discord.rate_limit_per_minute`"));
    let variant = format!(
        "enum ReplyMode does not have variant constructor {token} for key `discord.reply_mode`"
    );
    assert_eq!(redact(&variant), "enum ReplyMode does not have variant constructor (a value of 65 characters, not shown) for key `discord.reply_mode`");
    assert!(redact("enum ReplyMode does not have variant constructor treads").ends_with("treads"));
    let hex = "3f9a0c5e7b1d4f2a8c6e0b9d7f5a3c1e";
    assert!(!redact(&format!("`{hex}`")).contains(hex));
    // A syntax error's source line is dropped, its position and reason kept.
    let parse = "TOML parse error at line 2, column 40\n  |\n2 | url = \"postgres://u:secret@h/db\n  |    ^\ninvalid basic string, expected `\"`\n in local.toml";
    assert_eq!(
        redact(parse),
        "TOML parse error at line 2, column 40 invalid basic string, expected `\"` in local.toml"
    );
}

#[test]
fn files_layer_over_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[discord]\nqa_channels = [1, \"2\"]\n").unwrap();
    let o = Overrides {
        config_file: Some(file),
        ..Default::default()
    };
    let s = Settings::from_sources(None, &[], &o).unwrap();
    assert_eq!(s.discord.qa_channels, vec![1, 2]);
    assert_eq!(s.answer.closest, 3);
}

fn file_layer(text: &str) -> (tempfile::TempDir, Overrides) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("local.toml");
    std::fs::write(&file, text).unwrap();
    let overrides = Overrides {
        config_file: Some(file),
        ..Default::default()
    };
    (dir, overrides)
}

#[test]
fn unknown_keys_stop_start_up_naming_the_nearest_known_key() {
    for (text, unknown, nearest) in [
        (
            "[answer]\ntreshold = 0.9\n",
            "answer.treshold",
            "answer.threshold",
        ),
        (
            "[databse]\nurl = \"sqlite://x.sqlite\"\n",
            "databse.url",
            "database.url",
        ),
        (
            "[discord]\nqa_channel = [1]\n",
            "discord.qa_channel",
            "discord.qa_channels",
        ),
    ] {
        let (_dir, overrides) = file_layer(text);
        let err = Settings::from_sources(None, &[], &overrides)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("`{unknown}` is not a configuration key")),
            "{err}"
        );
        assert!(err.contains("local.toml"), "the file is named: {err}");
        assert!(
            err.contains(&format!("the nearest is `{nearest}`")),
            "{err}"
        );
    }
    let err = load_error(&[("ANBUD__ANSWER__BOGUS", "1")]);
    assert!(
        err.contains("environment variable ANBUD__ANSWER__BOGUS")
            && err.contains("`answer.bogus` is not a configuration key"),
        "{err}"
    );
    let err = load_error(&[("ANBUD__ANSWER__TRESHOLD", "0.9")]);
    assert!(err.contains("the nearest is `answer.threshold`"), "{err}");
    // Every key of the defaults is known, in the environment too.
    for key in known_keys() {
        let variable = format!("ANBUD__{}", key.to_uppercase().replace('.', "__"));
        let pairs = env(&[(variable.as_str(), "x")]);
        assert!(
            check_keys(None, &pairs, &Overrides::default()).is_ok(),
            "{key}"
        );
    }
}

#[test]
fn the_shard_range_may_start_at_shard_0() {
    let (_dir, overrides) = file_layer("[discord]\nshard_total = 2\nshard_range = [0, 1]\n");
    let s = Settings::from_sources(None, &[], &overrides).unwrap();
    assert_eq!(s.discord.shards(), Some((0, 1, 2)));
    let s = load_ok(&[
        ("ANBUD__DISCORD__SHARD_TOTAL", "4"),
        ("ANBUD__DISCORD__SHARD_RANGE", "0,0"),
    ]);
    assert_eq!(s.discord.shards(), Some((0, 0, 4)));
}

#[test]
fn lists_can_be_set_from_the_environment() {
    let s = load_ok(&[
        ("ANBUD__ANNOUNCEMENTS__REMINDER_DAYS_BEFORE", "7,1"),
        ("ANBUD__ANNOUNCEMENTS__REMINDER_HOURS_BEFORE", " 3 , 1 "),
    ]);
    assert_eq!(s.announcements.reminder_days_before, vec![7, 1]);
    assert_eq!(s.announcements.reminder_hours_before, vec![3, 1]);
    let err = load_error(&[("ANBUD__ANNOUNCEMENTS__REMINDER_DAYS_BEFORE", "7,x")]);
    assert!(
        err.contains("reminder_days_before") && err.contains("\"x\""),
        "{err}"
    );
}

#[test]
fn nonsensical_values_are_refused() {
    for (variable, value, key) in [
        (
            "ANBUD__DATABASE__RETENTION_DAYS",
            "0",
            "database.retention_days",
        ),
        (
            "ANBUD__DATABASE__BUFFER_CAPACITY",
            "0",
            "database.buffer_capacity",
        ),
        (
            "ANBUD__DATABASE__KNOWLEDGE_POLL_MS",
            "0",
            "database.knowledge_poll_ms",
        ),
        (
            "ANBUD__ANNOUNCEMENTS__SCHEDULER_TICK_MS",
            "0",
            "announcements.scheduler_tick_ms",
        ),
        (
            "ANBUD__ANNOUNCEMENTS__REMINDER_DAYS_BEFORE",
            "7,0",
            "announcements.reminder_days_before",
        ),
        (
            "ANBUD__ANNOUNCEMENTS__REMINDER_HOURS_BEFORE",
            "0",
            "announcements.reminder_hours_before",
        ),
        ("ANBUD__KNOWLEDGE__DIR", "", "knowledge.dir"),
        ("ANBUD__CLAIMS__LEASE_MS", "0", "claims.lease_ms"),
    ] {
        let err = load_error(&[(variable, value)]);
        assert!(err.contains(key), "{variable}={value}: {err}");
    }
}

#[test]
fn edit_distances() {
    assert_eq!(edit_distance("treshold", "threshold"), 1);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
}

#[test]
fn the_review_digest_is_a_weekday_and_a_time_or_off() {
    let s = Settings::defaults();
    assert_eq!(s.knowledge.review_after_days, 180);
    assert_eq!(
        s.knowledge.review_digest,
        Some(WeeklyTime {
            weekday: chrono::Weekday::Mon,
            time: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap()
        })
    );
    let off = Settings::from_sources(
        None,
        &env(&[("ANBUD__KNOWLEDGE__REVIEW_DIGEST", "")]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(off.knowledge.review_digest, None);
    let err = Settings::from_sources(
        None,
        &env(&[("ANBUD__KNOWLEDGE__REVIEW_DIGEST", "someday")]),
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("knowledge.review_digest"), "{err}");
}
