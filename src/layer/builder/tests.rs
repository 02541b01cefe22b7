use std::time::Duration;

use super::*;
use crate::config::test_env as env;
use tracing::level_filters::LevelFilter;

/// A builder aimed at a loopback address where nothing listens: building starts threads but
/// sends nothing.
fn local() -> Builder {
    Builder::<HoneyHiveLayer>::default().with_api_url("http://127.0.0.1:9")
}

fn refusal(builder: Builder, pairs: &[(&str, &str)]) -> String {
    match builder.build_with_env(&env(pairs)) {
        Ok(_) => panic!("expected a configuration error for {pairs:?}"),
        Err(error) => {
            assert!(matches!(error, Error::InvalidConfig { .. }), "{error}");
            error.to_string()
        }
    }
}

/// The settings `builder` resolves to in the environment `pairs`, for a layer that sends.
fn resolved(builder: Builder, pairs: &[(&str, &str)]) -> (Settings, Setup) {
    match builder.resolve(&env(pairs)).unwrap() {
        Resolved::Enabled(settings, setup) => (settings, *setup),
        Resolved::Disabled(_) => panic!("expected an enabled layer for {pairs:?}"),
    }
}

const ENV: &[(&str, &str)] = &[
    ("HH_SESSION_NAME", "from-env"),
    ("HH_SOURCE", "staging"),
    ("HH_PROJECT", "support-bot"),
    ("HH_BATCH_SIZE", "7"),
    ("HH_FLUSH_INTERVAL", "2.5"),
    ("HH_API_TIMEOUT", "3"),
];

#[test]
fn every_variable_fills_what_the_builder_left_unset() {
    let (settings, setup) = resolved(local(), ENV);
    assert_eq!(settings.session_name.as_deref(), Some("from-env"));
    assert_eq!(setup.worker.mapper.source, "staging");
    assert_eq!(setup.worker.mapper.project.as_deref(), Some("support-bot"));
    assert_eq!(setup.worker.batch_size, 7);
    assert_eq!(setup.worker.flush_interval, Duration::from_millis(2500));
    assert_eq!(setup.client.timeout(), Duration::from_secs(3));
    assert_eq!(setup.announce, None, "HH_VERBOSE is off by default");
}

#[test]
fn explicit_values_win_over_the_environment() {
    let builder = local()
        .with_session_name("explicit")
        .with_source("production")
        .with_project("other")
        .with_batch_size(50)
        .with_flush_interval(Duration::from_millis(200));
    let (settings, setup) = resolved(builder, ENV);
    assert_eq!(settings.session_name.as_deref(), Some("explicit"));
    assert_eq!(setup.worker.mapper.source, "production");
    assert_eq!(setup.worker.mapper.project.as_deref(), Some("other"));
    assert_eq!(setup.worker.batch_size, 50);
    assert_eq!(setup.worker.flush_interval, Duration::from_millis(200));
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    let (settings, setup) = resolved(local(), &[]);
    assert_eq!(settings.session_name, None);
    assert_eq!(settings.max_field_bytes, 256 * 1024);
    assert_eq!(settings.max_events_per_span, 32);
    assert_eq!(settings.logs_level, LevelFilter::INFO);
    assert!(setup.worker.mapper.capture_content);
    assert_eq!(setup.worker.root_wait, Duration::from_secs(10));
    assert_eq!(settings.session_roots, SessionRoots::AllRoots);
    assert_eq!(setup.worker.mapper.source, "dev");
    assert_eq!(setup.worker.batch_size, 100);
    assert_eq!(setup.worker.flush_interval, Duration::from_secs(1));
    assert_eq!(setup.worker.max_in_flight, 8);
    assert_eq!(setup.capacity, 32 * 1024);
    assert_eq!(setup.max_bytes, 64 * 1024 * 1024);
    assert_eq!(setup.auth_retry_interval, Duration::from_secs(60));
    assert_eq!(setup.shutdown_timeout, Duration::from_secs(5));
    assert_eq!(setup.retry.max_elapsed, Duration::from_secs(120));
}

#[test]
fn verbose_announces_the_url_and_only_the_masked_key() {
    let key = "hh_secret_0123456789abcdef";
    let (_, setup) = resolved(local().with_api_key(key), &[("HH_VERBOSE", "yes")]);
    let line = setup.announce.unwrap();
    assert!(line.contains("http://127.0.0.1:9"), "{line}");
    assert!(
        line.contains("hh_****cdef given with with_api_key") && !line.contains(key),
        "{line}"
    );
}

#[test]
fn verbose_names_the_variable_the_key_came_from_and_none_of_its_secret() {
    let secret = "S3cr3t-_".repeat(8);
    let key = format!("hh_ingst_Id0123456789abcdefghijkl_{secret}");
    let pairs = [
        ("HH_VERBOSE", "true"),
        ("HH_INGESTION_API_KEY", key.as_str()),
        ("HH_PROJECT_API_KEY", "hh_project_key_0123456789"),
    ];
    let (_, setup) = resolved(local(), &pairs);
    let line = setup.announce.unwrap();
    assert!(
        line.contains("hh_ingst_Id0123456789abcdefghijkl_****** from HH_INGESTION_API_KEY"),
        "{line}"
    );
    assert!(!line.contains(&secret[..8]), "{line}");
    let (_, setup) = resolved(local(), &[pairs[0], pairs[2]]);
    let line = setup.announce.unwrap();
    assert!(line.contains("from HH_PROJECT_API_KEY"), "{line}");
}

#[test]
fn the_layer_refuses_a_malformed_ingestion_key_naming_the_variable() {
    let key = "hh_ingst_Id0123456789abcdefghijkl_cut";
    let message = refusal(local(), &[("HH_INGESTION_API_KEY", key)]);
    assert!(message.contains("HH_INGESTION_API_KEY"), "{message}");
    assert!(!message.contains("Id0123456789"), "{message}");
}

#[test]
fn building_starts_an_exporter_that_stops_with_its_guard() {
    let (layer, guard) = local().build_with_env(&env(&[])).unwrap();
    assert!(layer.producer.is_some());
    let report = guard.shutdown(Duration::from_secs(1));
    assert!(report.is_complete(), "{report:?}");
}

#[test]
fn bad_numbers_in_the_environment_are_refused_with_the_variable_named() {
    let message = refusal(local(), &[("HH_BATCH_SIZE", "lots")]);
    assert!(message.contains("HH_BATCH_SIZE"), "{message}");
    let message = refusal(local(), &[("HH_BATCH_SIZE", "0")]);
    assert!(message.contains("between 1 and 10000"), "{message}");
    let message = refusal(local(), &[("HH_FLUSH_INTERVAL", "-2")]);
    assert!(message.contains("HH_FLUSH_INTERVAL"), "{message}");
    let message = refusal(local(), &[("HH_VERBOSE", "maybe")]);
    assert!(message.contains("HH_VERBOSE"), "{message}");
}

#[test]
fn nonsense_settings_are_refused() {
    refusal(local().with_queue_capacity(0), &[]);
    refusal(local().with_max_concurrent_requests(0), &[]);
    refusal(local().with_flush_interval(Duration::ZERO), &[]);
    refusal(local().with_max_field_bytes(10), &[]);
    refusal(local().with_batch_size(20_000), &[]);
}

#[test]
fn a_missing_key_for_honeyhive_itself_is_refused_before_anything_starts() {
    let message = refusal(Builder::<HoneyHiveLayer>::default(), &[]);
    assert!(message.contains("HH_API_KEY"), "{message}");
}

#[test]
fn disabled_tracing_needs_no_key_and_starts_nothing() {
    let (layer, guard) = Builder::<HoneyHiveLayer>::default()
        .build_with_env(&env(&[("HH_DISABLE_TRACING", "true")]))
        .unwrap();
    assert!(layer.producer.is_none());
    assert_eq!(guard.stats(), crate::Stats::default());
    assert!(matches!(
        guard.flush(Duration::from_millis(10)),
        Err(crate::FlushError::ShutDown)
    ));
}

#[test]
fn the_logs_level_and_the_content_switch_read_their_variables() {
    let (settings, setup) = resolved(
        local(),
        &[
            ("HH_LOGS_LEVEL", " Debug "),
            ("HH_CAPTURE_CONTENT", "false"),
        ],
    );
    assert_eq!(settings.logs_level, LevelFilter::DEBUG);
    assert!(!setup.worker.mapper.capture_content);
    let (settings, setup) = resolved(
        local()
            .with_logs_level(LevelFilter::OFF)
            .with_capture_content(true),
        &[("HH_LOGS_LEVEL", "trace"), ("HH_CAPTURE_CONTENT", "no")],
    );
    assert_eq!(settings.logs_level, LevelFilter::OFF, "the builder wins");
    assert!(setup.worker.mapper.capture_content);
    let message = refusal(local(), &[("HH_LOGS_LEVEL", "loud")]);
    assert!(
        message.contains("HH_LOGS_LEVEL") && message.contains("loud"),
        "{message}"
    );
    let message = refusal(local(), &[("HH_CAPTURE_CONTENT", "maybe")]);
    assert!(message.contains("HH_CAPTURE_CONTENT"), "{message}");
}
