//! Serde for the learned count vectors (the baseline's histograms and the
//! learned rules' [`Histogram`](crate::rule::histogram::Histogram)s): one
//! compact string, about half the JSON of a number array.
//!
//! Each count is written in base 32, most significant digit first: leading
//! digits from `MORE`, the last digit from `LAST`, so a count below 32 is one
//! character and one below 1024 (most counts, at 100 per stretch) two. A run
//! of three or more zeros is `.` and the run's length; trailing zeros are not
//! written at all (readers pad to size).
//!
//! States written before this format (a JSON array, with a run of `n` zeros
//! as `-n`) are still read.
//!
// Design: the alphabet is printable ASCII that JSON never escapes, so the
// stored text is exactly these characters.

use serde::{Deserializer, Serializer};

const LAST: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";
const MORE: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyzWXYZ+/";
const ZEROS: u8 = b'.';
/// Each byte's digit: 1–32 for `LAST`'s digits 0–31, 33–64 for `MORE`'s,
/// 0 for a byte of neither. (Searching the alphabets for every character
/// made reading 100,000 stored states at start-up take seconds.)
const DIGITS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut d = 0;
    while d < 32 {
        table[LAST[d] as usize] = d as u8 + 1;
        table[MORE[d] as usize] = d as u8 + 33;
        d += 1;
    }
    table
};
/// No stored vector is anywhere near this long; longer input is refused.
const MAX_LEN: usize = 100_000;

fn push_number(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 13];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = (n % 32) as u8;
        n /= 32;
        if n == 0 {
            break;
        }
    }
    let last = digits.len() - 1;
    for (j, &d) in digits.iter().enumerate().skip(i) {
        let table = if j == last { LAST } else { MORE };
        out.push(char::from(table[usize::from(d)]));
    }
}

/// A count's width: the baseline's histograms count in `u16` (what the
/// forgetting lets a bucket hold fits, see `check.rs`), the learned rules'
/// in `u32`.
pub trait Count: Copy + Default + PartialEq + Into<u64> {
    /// `n`, or the largest count for a larger one (a state written by an
    /// engine that counted wider).
    fn saturating(n: u64) -> Self;
}

impl Count for u16 {
    fn saturating(n: u64) -> u16 {
        u16::try_from(n).unwrap_or(u16::MAX)
    }
}

impl Count for u32 {
    fn saturating(n: u64) -> u32 {
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

/// `counts` made exactly `len` long, zeros added or counts cut, with no
/// room to spare: a stored state's counts end at their last non-zero
/// one, and padding them by the vector's doubling took twice the room.
pub(crate) fn pad<C: Count>(counts: &mut Vec<C>, len: usize) {
    counts.resize(len, C::default());
    counts.shrink_to_fit();
}

/// Each of `counts` after one day's decay by `keep`, as [`decayed`](super::decayed).
// Design: most counts are zero, and a zero stays zero whatever `keep` is:
// skipping them makes closing a day several times cheaper.
pub(crate) fn decay_all(counts: &mut [u16], keep: f64) {
    for c in counts.iter_mut().filter(|c| **c != 0) {
        // Never more than the count itself, so it fits.
        *c = super::decayed(u32::from(*c), keep) as u16;
    }
}

/// `counts` as the compact text.
pub fn encode<C: Count>(counts: &[C]) -> String {
    let used = counts.len()
        - counts
            .iter()
            .rev()
            .take_while(|&&c| c == C::default())
            .count();
    let mut out = String::new();
    let mut zeros = 0u64;
    let flush = |out: &mut String, zeros: &mut u64| {
        if *zeros >= 3 {
            out.push(char::from(ZEROS));
            push_number(out, *zeros);
        } else {
            (0..*zeros).for_each(|_| out.push('0'));
        }
        *zeros = 0;
    };
    for &c in &counts[..used] {
        if c == C::default() {
            zeros += 1;
            continue;
        }
        flush(&mut out, &mut zeros);
        push_number(&mut out, c.into());
    }
    out
}

/// The counts written by [`encode`].
pub fn decode<C: Count>(text: &str) -> Result<Vec<C>, String> {
    let mut out = Vec::new();
    let (mut run, mut n, mut digits) = (false, 0u64, 0usize);
    for b in text.bytes() {
        if b == ZEROS && digits == 0 && !run {
            run = true;
            continue;
        }
        digits += 1;
        let (digit, last) = match DIGITS[usize::from(b)] {
            0 => {
                return Err(format!(
                    "unexpected character {:?} in counts",
                    char::from(b)
                ));
            }
            d @ 1..=32 => (d - 1, true),
            d => (d - 33, false),
        };
        n = n
            .checked_mul(32)
            .and_then(|n| n.checked_add(digit as u64))
            .filter(|&n| n <= u64::from(u32::MAX))
            .ok_or("count too large")?;
        if !last {
            continue;
        }
        if run {
            let zeros = usize::try_from(n).map_err(|e| e.to_string())?;
            if out.len() + zeros > MAX_LEN {
                return Err("zero run too long".into());
            }
            out.resize(out.len() + zeros, C::default());
        } else {
            out.push(C::saturating(n));
        }
        if out.len() > MAX_LEN {
            return Err("too many counts".into());
        }
        (run, n, digits) = (false, 0, 0);
    }
    if run || digits != 0 {
        return Err("counts end in the middle of a number".into());
    }
    // Grown by doubling, a day's 648 gap counts took room for 1,024: with
    // 100,000 meters in memory that was 150 MB of nothing.
    out.shrink_to_fit();
    Ok(out)
}

pub fn serialize<S: Serializer, C: Count>(counts: &[C], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode(counts))
}

/// Either form: the compact text, or the older array of counts and runs.
// Design: a visitor that takes whichever comes, rather than an untagged
// enum, which buffers every value before trying its variants: loading
// 100,000 stored states at start-up spent much of its time there.
pub fn deserialize<'de, D: Deserializer<'de>, C: Count>(d: D) -> Result<Vec<C>, D::Error> {
    d.deserialize_any(CountsVisitor(std::marker::PhantomData))
}

struct CountsVisitor<C>(std::marker::PhantomData<C>);

impl<'de, C: Count> serde::de::Visitor<'de> for CountsVisitor<C> {
    type Value = Vec<C>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("counts as compact text or as an array of counts and zero runs")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Vec<C>, E> {
        decode(text).map_err(E::custom)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<C>, A::Error> {
        use serde::de::Error;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<i64>()? {
            if v < 0 {
                let n = usize::try_from(-v).map_err(A::Error::custom)?;
                if out.len() + n > MAX_LEN {
                    return Err(A::Error::custom("zero run too long"));
                }
                out.extend(std::iter::repeat_n(C::default(), n));
            } else {
                // Counts were never wider than `u32`: a larger one is not a count.
                let v = u32::try_from(v).map_err(A::Error::custom)?;
                out.push(C::saturating(v.into()));
                if out.len() > MAX_LEN {
                    return Err(A::Error::custom("too many counts"));
                }
            }
        }
        out.shrink_to_fit();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_come_back_identical_and_short() {
        let cases: [&[u32]; 6] = [
            &[],
            &[0, 0, 0],
            &[5, 0, 31, 32, 0, 0, 1023, 1024],
            &[
                0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 9,
            ],
            &[u32::MAX, 0, 1, 100, 466, 15_508],
            &[0, 0, 1, 0, 0],
        ];
        for counts in cases {
            let text = encode(counts);
            let used = counts.len() - counts.iter().rev().take_while(|&&c| c == 0).count();
            assert_eq!(decode::<u32>(&text).unwrap(), &counts[..used], "{text}");
        }
        assert_eq!(
            encode::<u32>(&[5, 0, 31, 32, 0, 0, 1023, 1024]),
            "50Vb000/Vba0"
        );
        assert_eq!(encode::<u32>(&[0, 0, 0, 0, 7]), ".47");
        assert_eq!(encode::<u32>(&[100, 466]), "d4oI");
    }

    #[test]
    fn bad_text_is_refused_not_trusted() {
        for bad in ["a", ".", "x!", "////////", ".ab", "5 4", ".////V"] {
            assert!(decode::<u32>(bad).is_err(), "{bad}");
            assert!(decode::<u16>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_older_array_form_still_reads() {
        let old: Vec<u32> =
            deserialize(&mut serde_json::Deserializer::from_str("[-2,42,-1,7]")).unwrap();
        assert_eq!(old, [0, 0, 42, 0, 7]);
        let new: Vec<u32> =
            deserialize(&mut serde_json::Deserializer::from_str("\"00bA07\"")).unwrap();
        assert_eq!(new, [0, 0, 42, 0, 7]);
        let bad = deserialize::<_, u32>(&mut serde_json::Deserializer::from_str("[-99999999999]"));
        assert!(bad.is_err());
    }

    #[test]
    fn narrow_counts_read_wider_ones_as_their_largest() {
        let wide = encode::<u32>(&[7, 65_535, 65_536, 4_000_000_000]);
        assert_eq!(decode::<u16>(&wide).unwrap(), [7, 65_535, 65_535, 65_535]);
        assert_eq!(encode::<u16>(&[7, 65_535]), encode::<u32>(&[7, 65_535]));
        let old: Vec<u16> =
            deserialize(&mut serde_json::Deserializer::from_str("[-1,70000,9]")).unwrap();
        assert_eq!(old, [0, 65_535, 9]);
    }
}
