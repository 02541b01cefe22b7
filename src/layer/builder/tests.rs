use std::time::Duration;

use super::*;
use crate::config::test_env as env;

/// A builder aimed at a loopback address where nothing listens: building starts threads but
/// sends nothing.
fn local() -> Builder {
    Builder::default().with_api_url("http://127.0.0.1:9")
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

#[test]
fn environment_fills_what_the_builder_left_unset() {
    let (layer, guard) = local()
        .build_with_env(&env(&[
            ("HH_SESSION_NAME", "from-env"),
            ("HH_BATCH_SIZE", "7"),
        ]))
        .unwrap();
    assert_eq!(layer.settings.session_name.as_deref(), Some("from-env"));
    drop(guard);
    let (layer, _guard) = local()
        .with_session_name("explicit")
        .build_with_env(&env(&[("HH_SESSION_NAME", "from-env")]))
        .unwrap();
    assert_eq!(layer.settings.session_name.as_deref(), Some("explicit"));
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
    let message = refusal(Builder::default(), &[]);
    assert!(message.contains("HH_API_KEY"), "{message}");
}

#[test]
fn disabled_tracing_needs_no_key_and_starts_nothing() {
    let (layer, guard) = Builder::default()
        .build_with_env(&env(&[("HH_DISABLE_TRACING", "true")]))
        .unwrap();
    assert!(layer.producer.is_none());
    assert_eq!(guard.stats(), crate::Stats::default());
    assert!(matches!(
        guard.flush(Duration::from_millis(10)),
        Err(crate::FlushError::ShutDown)
    ));
}
