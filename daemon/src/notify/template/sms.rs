//! One SMS: GSM-7 or UCS-2 units, segments, and a message cut to fit one
//! segment by shortening the alert's summary first.

use super::{Values, substitute};

pub(super) fn fit_one_sms(template: &str, values: &Values) -> String {
    let full = substitute(template, |name| values.get(name).map(str::to_owned));
    if sms_segments(&full) <= 1 || values.summary.is_empty() {
        return full;
    }
    let without = substitute(template, |name| match name {
        "summary" => Some(String::new()),
        other => values.get(other).map(str::to_owned),
    });
    let gsm = is_gsm7(&full);
    let (limit, ellipsis): (usize, &str) = if gsm { (160, "...") } else { (70, "…") };
    let used = sms_units(&without) + sms_units(ellipsis);
    let Some(mut budget) = limit.checked_sub(used) else {
        return without;
    };
    let mut summary = String::new();
    for c in values.summary.chars() {
        let units = if gsm { gsm7_units(c) } else { c.len_utf16() };
        if units > budget {
            break;
        }
        budget -= units;
        summary.push(c);
    }
    let summary = format!("{}{ellipsis}", summary.trim_end());
    substitute(template, |name| match name {
        "summary" => Some(summary.clone()),
        other => values.get(other).map(str::to_owned),
    })
}

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

fn gsm7_units(c: char) -> usize {
    if GSM7_EXTENSION.contains(c) { 2 } else { 1 }
}

/// Whether every character is in the GSM 03.38 alphabet (basic or extension).
pub fn is_gsm7(text: &str) -> bool {
    text.chars()
        .all(|c| GSM7_BASIC.contains(c) || GSM7_EXTENSION.contains(c))
}

/// Length as SMS counts it: GSM-7 septets (extension characters count 2) or
/// UTF-16 units when anything is outside GSM-7.
pub fn sms_units(text: &str) -> usize {
    if is_gsm7(text) {
        text.chars().map(gsm7_units).sum()
    } else {
        text.encode_utf16().count()
    }
}

/// How many SMS `text` takes: one up to 160 GSM-7 / 70 UCS-2 characters,
/// then 153 / 67 per part of a concatenated message.
pub fn sms_segments(text: &str) -> usize {
    let units = sms_units(text);
    let (single, part) = if is_gsm7(text) { (160, 153) } else { (70, 67) };
    if units <= single {
        1
    } else {
        units.div_ceil(part)
    }
}
