//! Embeddings, `POST /v1/embeddings`: deterministic unit vectors, as floats or base64.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::{EMBEDDING_DIMENSIONS, Server, invalid_request, receive};

pub(crate) async fn embeddings(State(shared): Server, Json(body): Json<Value>) -> Response {
    let model = match receive(&shared, &body) {
        Ok(model) => model,
        Err(refusal) => return *refusal,
    };
    let Some(inputs) = inputs(&body["input"]) else {
        return invalid_request(
            "'input' must be a string, an array of strings, an array of tokens, or an array of \
             token arrays.",
        );
    };
    let dimensions = match body.get("dimensions").map(Value::as_u64) {
        None => EMBEDDING_DIMENSIONS,
        Some(Some(n @ 1..=3072)) => n as usize,
        Some(_) => return invalid_request("'dimensions' must be between 1 and 3072."),
    };
    let base64 = match body.get("encoding_format").map(Value::as_str) {
        None | Some(Some("float")) => false,
        Some(Some("base64")) => true,
        Some(_) => return invalid_request("'encoding_format' must be 'float' or 'base64'."),
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, (text, _))| {
            let vector = embedding(text, dimensions);
            let embedding = if base64 {
                json!(encode_base64(&vector))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let tokens: usize = inputs.iter().map(|(_, tokens)| tokens).sum();
    Json(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
    .into_response()
}

/// Each input as the text it embeds and its token count: a string is its own text, counting one
/// token per whitespace-separated word; a token array is the text of its numbers joined by
/// spaces, counting its tokens.
fn inputs(input: &Value) -> Option<Vec<(String, usize)>> {
    let text = |text: &str| (text.to_owned(), text.split_whitespace().count());
    let tokens = |tokens: &Vec<Value>| -> Option<(String, usize)> {
        let ids: Option<Vec<String>> = tokens
            .iter()
            .map(|t| t.as_u64().map(|t| t.to_string()))
            .collect();
        Some((ids?.join(" "), tokens.len()))
    };
    match input {
        Value::String(s) => Some(vec![text(s)]),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_u64) => {
            Some(vec![tokens(items)?])
        }
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Some(text(s)),
                Value::Array(ids) if !ids.is_empty() => tokens(ids),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The fake embedding of a text: `dimensions` values drawn from a hash of the text, scaled to
/// unit length, as the server answers them (a token array embeds as its numbers joined by
/// spaces).
pub fn embedding(text: &str, dimensions: usize) -> Vec<f32> {
    // FNV-1a of the text seeds a SplitMix64 sequence.
    let mut state = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let raw: Vec<f64> = (0..dimensions)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            // The top 53 bits as a float in [-1, 1).
            (z >> 11) as f64 / (1_u64 << 52) as f64 - 1.0
        })
        .collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt();
    raw.iter()
        .map(|x| if norm > 0.0 { (x / norm) as f32 } else { 0.0 })
        .collect()
}

/// The vector as OpenAI's `base64` encoding: standard base64 of the little-endian `f32`s.
fn encode_base64(vector: &[f32]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= group.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
