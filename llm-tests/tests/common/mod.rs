//! What the end-to-end tests share: the two front doors, and a genai client of the fake server.
#![allow(dead_code)]

use std::time::Duration;

use genai::adapter::AdapterKind;
use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
use genai::{Client, ModelIden, ServiceTarget};
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive_llm_tests::FakeOpenAi;
use tracing_subscriber::layer::SubscriberExt;

/// How the spans reach the local server.
pub enum Door {
    Layer(Box<tracing_honeyhive::layer::Builder>),
    Exporter,
}

/// Runs `work` with rig's spans going through `door` to a fresh local server; returns it,
/// everything delivered.
pub async fn traced<F: std::future::Future<Output = ()>>(door: Door, work: F) -> Emulator {
    let server = Emulator::builder().start().unwrap();
    match door {
        Door::Layer(builder) => {
            let (layer, guard) = builder.with_api_url(server.url()).build().unwrap();
            let _default =
                tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
            work.await;
            guard.flush(Duration::from_secs(20)).expect("delivered");
        }
        Door::Exporter => {
            use opentelemetry::trace::TracerProvider;
            let exporter = tracing_honeyhive::otel::HoneyHiveExporter::builder()
                .with_api_url(server.url())
                .build()
                .unwrap();
            let handle = exporter.handle();
            let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .build();
            let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("llm-app"));
            let _default =
                tracing::subscriber::set_default(tracing_subscriber::registry().with(otel));
            work.await;
            provider.shutdown().expect("delivered");
            let stats = handle.stats();
            assert_eq!(stats.delivered(), stats.produced(), "{stats:#?}");
        }
    }
    server
}

/// A genai client whose OpenAI models are served by `server`.
pub fn genai_client(server: &FakeOpenAi) -> Client {
    let endpoint = format!("{}/", server.url());
    let resolver = ServiceTargetResolver::from_resolver_fn(
        move |target: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(endpoint.clone()),
                auth: AuthData::from_single("sk-test"),
                model: ModelIden::new(AdapterKind::OpenAI, target.model.model_name),
            })
        },
    );
    Client::builder()
        .with_service_target_resolver(resolver)
        .build()
        .expect("a genai client")
}
