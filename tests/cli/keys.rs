//! Which key and URL the binary sends, read from HoneyHive's newer variables in the library's
//! one order: `--api-key`, else `HH_INGESTION_API_KEY`, else `HH_PROJECT_API_KEY`, else
//! `HH_API_KEY`; `--api-url`, else `HH_DATA_PLANE_URL`, else `HH_API_URL`. A bad key is
//! refused before anything is sent, naming where it came from and never quoting it.

use tracing_honeyhive::emulator::Emulator;

use crate::{Run, finish, honeyhive, only_request};

/// A whole ingestion key: `hh_ingst_`, a 24-character id, `_`, a 64-character secret.
const INGESTION: &str = concat!(
    "hh_ingst_",
    "Cli0Id1234567890abcdefgh",
    "_",
    "S3cr3t-_S3cr3t-_S3cr3t-_S3cr3t-_S3cr3t-_S3cr3t-_S3cr3t-_S3cr3t-_"
);
const PROJECT: &str = "hh_cli_project_key_0123456789";
const LEGACY: &str = "hh_cli_legacy_key_0123456789";
const GIVEN: &str = "hh_cli_given_key_0123456789";

/// Variables set for one run.
type Env<'a> = Vec<(&'a str, &'a str)>;

/// A server on a port where nothing listens, to show a URL was not used.
const NOWHERE: &str = "http://127.0.0.1:9";

/// `honeyhive sessions create` (with `flags` before it) in the environment `env` alone.
fn create(flags: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = honeyhive(&[flags, &["sessions", "create"][..]].concat());
    for (name, value) in env {
        command.env(name, value);
    }
    finish(command, None)
}

/// A server requiring `key`.
fn requiring(key: &str) -> Emulator {
    Emulator::builder()
        .with_api_key(key)
        .start()
        .expect("the local server starts")
}

#[test]
fn the_key_sent_is_the_first_set_of_flag_ingestion_project_and_older_variable() {
    let padded = format!("  {INGESTION}\n");
    let cases: [(&[&str], Env<'_>, &str); 6] = [
        (
            &["--api-key", GIVEN],
            vec![
                ("HH_INGESTION_API_KEY", INGESTION),
                ("HH_PROJECT_API_KEY", PROJECT),
                ("HH_API_KEY", LEGACY),
            ],
            GIVEN,
        ),
        (
            &[],
            vec![
                ("HH_INGESTION_API_KEY", INGESTION),
                ("HH_PROJECT_API_KEY", PROJECT),
                ("HH_API_KEY", LEGACY),
            ],
            INGESTION,
        ),
        (
            &[],
            vec![("HH_INGESTION_API_KEY", INGESTION), ("HH_API_KEY", LEGACY)],
            INGESTION,
        ),
        (
            &[],
            vec![("HH_PROJECT_API_KEY", PROJECT), ("HH_API_KEY", LEGACY)],
            PROJECT,
        ),
        // Empty and blank variables count as unset; a key is sent trimmed.
        (
            &["--api-key", " "],
            vec![
                ("HH_INGESTION_API_KEY", ""),
                ("HH_PROJECT_API_KEY", " \t"),
                ("HH_API_KEY", LEGACY),
            ],
            LEGACY,
        ),
        (&[], vec![("HH_INGESTION_API_KEY", &padded)], INGESTION),
    ];
    for (flags, mut env, expected) in cases {
        let server = requiring(expected);
        let url = server.url();
        env.push(("HH_API_URL", &url));
        create(flags, &env).json();
        let request = only_request(&server, "POST", "/v1/sessions");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {expected}").as_str()),
            "{flags:?} {env:?}"
        );
    }
}

#[test]
fn the_url_is_the_first_set_of_flag_data_plane_and_older_variable() {
    let server = requiring(PROJECT);
    let url = server.url();
    let key = ("HH_PROJECT_API_KEY", PROJECT);
    create(
        &[],
        &[key, ("HH_DATA_PLANE_URL", &url), ("HH_API_URL", NOWHERE)],
    )
    .json();
    create(&[], &[key, ("HH_DATA_PLANE_URL", ""), ("HH_API_URL", &url)]).json();
    create(
        &["--api-url", &url],
        &[key, ("HH_DATA_PLANE_URL", NOWHERE), ("HH_API_URL", NOWHERE)],
    )
    .json();
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn a_bad_key_or_url_is_refused_before_sending_naming_its_setting_never_the_key() {
    let server = requiring(PROJECT);
    let url = server.url();
    let cut = &INGESTION[..60];
    let fine_grained = INGESTION.replace("hh_ingst_", "hh_fgdp_");
    let cases: [(&[&str], Env<'_>, &str, &str); 6] = [
        (
            &[],
            vec![("HH_INGESTION_API_KEY", cut)],
            "HH_INGESTION_API_KEY",
            cut,
        ),
        (
            &[],
            vec![("HH_INGESTION_API_KEY", PROJECT)],
            "HH_INGESTION_API_KEY",
            PROJECT,
        ),
        // A stale ingestion variable is refused even when another key would be sent.
        (
            &["--api-key", PROJECT],
            vec![("HH_INGESTION_API_KEY", cut)],
            "HH_INGESTION_API_KEY",
            cut,
        ),
        (
            &[],
            vec![("HH_PROJECT_API_KEY", &fine_grained)],
            "HH_PROJECT_API_KEY",
            &fine_grained,
        ),
        (&["--api-key", cut], vec![], "--api-key", cut),
        (
            &[],
            vec![
                ("HH_PROJECT_API_KEY", PROJECT),
                ("HH_DATA_PLANE_URL", "http://dp.example.com"),
            ],
            "HH_DATA_PLANE_URL",
            "",
        ),
    ];
    for (flags, mut env, named, key) in cases {
        env.push(("HH_API_URL", &url));
        let run = create(flags, &env);
        run.refused(2, &[named]);
        if !key.is_empty() {
            // Nothing of the key past the prefix that names its kind.
            assert!(!run.stderr.contains(&key[9..19]), "{run:#?}");
        }
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[test]
fn verbose_names_where_the_key_came_from_and_shows_none_of_its_secret() {
    let server = requiring(INGESTION);
    let url = server.url();
    let run = create(
        &["--verbose"],
        &[
            ("HH_INGESTION_API_KEY", INGESTION),
            ("HH_PROJECT_API_KEY", PROJECT),
            ("HH_DATA_PLANE_URL", &url),
        ],
    );
    run.json();
    assert!(
        run.stderr
            .contains("API key: hh_ingst_Cli0Id1234567890abcdefgh_****** (HH_INGESTION_API_KEY)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("S3cr3t"), "{}", run.stderr);
    let run = create(
        &["--verbose", "--api-key", PROJECT],
        &[("HH_API_URL", &requiring(PROJECT).url())],
    );
    run.json();
    assert!(run.stderr.contains("(--api-key)"), "{}", run.stderr);
}
