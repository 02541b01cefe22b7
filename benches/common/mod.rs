//! What the benches share: issue 11's workload, the subscriber and exporter that do nothing (the
//! floors of the ladders), an exporter wrapper that counts what it exported, the loopback sink
//! ([`sink`]), and measures of CPU time and memory ([`measure`]). Each bench includes this
//! directory with `mod common;`.
// Each bench uses only part of this module.
#![allow(dead_code)]

pub mod measure;
pub mod sink;
mod workload;

// As for `dead_code` above: a bench that runs no workload leaves these unused.
#[allow(unused_imports)]
pub use workload::{SPANS, prompt, workload};

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// A layer that does nothing: the cost of the registry alone.
pub struct Noop;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Noop {}

/// An exporter that discards: the cost of the bridge and its batch processor alone.
#[derive(Debug)]
pub struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

/// What a [`Counted`] exporter passed on.
#[derive(Debug, Default)]
pub struct ExportCounts {
    /// Spans in exports the inner exporter answered `Ok`.
    pub delivered: AtomicU64,
    /// Spans in exports the inner exporter answered with an error.
    pub failed: AtomicU64,
    /// Exports answered `Ok`.
    pub exports: AtomicU64,
}

impl ExportCounts {
    /// `(delivered, failed, exports)` now.
    pub fn get(&self) -> (u64, u64, u64) {
        (
            self.delivered.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.exports.load(Ordering::Relaxed),
        )
    }
}

/// An exporter that passes everything on to `inner` and counts the spans of each export by its
/// outcome: the exact number a batch processor delivered.
#[derive(Debug)]
pub struct Counted<E> {
    pub inner: E,
    pub counts: Arc<ExportCounts>,
}

impl<E: SpanExporter> Counted<E> {
    pub fn new(inner: E) -> (Self, Arc<ExportCounts>) {
        let counts = Arc::new(ExportCounts::default());
        let counted = Counted {
            inner,
            counts: Arc::clone(&counts),
        };
        (counted, counts)
    }
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len() as u64;
        let result = self.inner.export(batch).await;
        if result.is_ok() {
            self.counts.delivered.fetch_add(n, Ordering::Relaxed);
            self.counts.exports.fetch_add(1, Ordering::Relaxed);
        } else {
            self.counts.failed.fetch_add(n, Ordering::Relaxed);
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn shutdown(&self) -> OTelSdkResult {
        self.inner.shutdown()
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
