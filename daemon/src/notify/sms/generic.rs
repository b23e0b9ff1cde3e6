//! The `generic` provider: method, URL, headers and body are templates
//! filled with `{to}`, `{text}`, `{key}` and `{secret}`, each escaped for
//! where it goes.

use super::config::BodyFormat;
use super::{Api, Sms, percent_encode};
use crate::notify::template::substitute;

impl Sms {
    pub(super) fn generic_request(
        &self,
        key: &str,
        to: &str,
        text: &str,
    ) -> Result<reqwest::RequestBuilder, String> {
        let Api::Generic {
            method,
            url,
            headers,
            body,
            format,
        } = &self.api
        else {
            return Err("not a generic channel".into());
        };
        let secret = String::from_utf8_lossy(&self.secret);
        let value = |name: &str| -> Option<String> {
            Some(match name {
                "to" => to.to_owned(),
                "text" => text.to_owned(),
                "key" => key.to_owned(),
                "secret" => secret.clone().into_owned(),
                _ => return None,
            })
        };
        let url = substitute(url, |n| value(n).map(|v| percent_encode(&v)));
        let (content_type, body) = match format {
            BodyFormat::Json => (
                "application/json",
                substitute(body, |n| value(n).map(|v| json_escape(&v))),
            ),
            BodyFormat::Form => (
                "application/x-www-form-urlencoded",
                substitute(body, |n| value(n).map(|v| percent_encode(&v))),
            ),
        };
        let mut request = self
            .client
            .request(method.clone(), url)
            .header(reqwest::header::CONTENT_TYPE, content_type);
        for (header, template) in headers {
            let filled = substitute(template, value);
            if filled.contains(['\r', '\n']) {
                return Err(format!("header `{header}` would contain a line break"));
            }
            request = request.header(header.as_str(), filled);
        }
        if *method != reqwest::Method::GET {
            request = request.body(body);
        }
        Ok(request)
    }
}

fn json_escape(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}
