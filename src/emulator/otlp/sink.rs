//! Where ingested spans go: the crate's own `HoneyHiveExporter`, pointed at this server. An OTLP
//! span is converted, grouped into sessions and mapped by exactly the code that exports an
//! in-process span, and arrives through the REST routes like any other, into the same store.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::FutureExt as _;
use opentelemetry_sdk::trace::SpanExporter as _;

use super::spans::Group;
use crate::otel::HoneyHiveExporter;
use crate::{FlushError, Handle};

/// The exporter that carries ingested spans to the server's own REST routes.
pub(crate) struct Sink {
    exporter: Mutex<HoneyHiveExporter>,
    handle: Handle,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").finish_non_exhaustive()
    }
}

impl Sink {
    /// An exporter sending to `url` with `key` (the server's own, when it has one). The
    /// environment is not read: what the server's process has in `HH_*` is not for it.
    pub(crate) fn new(url: String, key: Option<&str>) -> Result<Sink, crate::Error> {
        let mut builder = HoneyHiveExporter::builder()
            .with_api_url(url)
            .with_flush_interval(Duration::from_millis(100))
            .with_shutdown_timeout(Duration::from_secs(5));
        if let Some(key) = key {
            builder = builder.with_api_key(key);
        }
        let exporter = builder.build_with_env(&|_| None)?;
        let handle = exporter.handle();
        Ok(Sink {
            exporter: Mutex::new(exporter),
            handle,
        })
    }

    /// An exporter that sends nothing (for fuzzing the ingest's decoding).
    #[cfg(fuzzing)]
    pub(crate) fn discarding() -> Result<Sink, crate::Error> {
        let exporter = HoneyHiveExporter::builder()
            .with_api_url("http://127.0.0.1:9")
            .with_disabled(true)
            .build_with_env(&|_| None)?;
        let handle = exporter.handle();
        Ok(Sink {
            exporter: Mutex::new(exporter),
            handle,
        })
    }

    /// Hands the spans over, each group with its resource. Never waits for the network.
    pub(crate) fn ingest(&self, groups: Vec<Group>) {
        let mut exporter = self.exporter.lock().unwrap_or_else(|e| e.into_inner());
        for group in groups {
            exporter.set_resource(&group.resource);
            // The exporter converts and queues before it returns a ready future.
            let _ = exporter.export(group.spans).now_or_never();
        }
    }

    /// Waits until what was handed over is stored (or refused), at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> Result<(), FlushError> {
        self.handle.flush(timeout).map(|_| ())
    }

    /// What was handed over and what became of it.
    pub(crate) fn stats(&self) -> crate::Stats {
        self.handle.stats()
    }
}
