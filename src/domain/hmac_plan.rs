//! How a clinic's Vapi HMAC credential signs the requests it sends (`docs/vapi.md` §3.1): the
//! options of Vapi's HMAC authentication plan that change what arrives — the algorithm, whether
//! a timestamp is signed and in which header, and the signature's header, encoding and prefix —
//! with Vapi's defaults, and the rules a clinic's choice must meet. Pure.

/// The MAC's hash (`algorithm` in Vapi's plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacAlgorithm {
    Sha256,
    Sha512,
    Sha1,
}

impl HmacAlgorithm {
    pub const ALL: [HmacAlgorithm; 3] = [Self::Sha256, Self::Sha512, Self::Sha1];

    /// The name in Vapi's plan and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
            Self::Sha1 => "sha1",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Bytes in a MAC of this hash.
    pub fn mac_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha512 => 64,
            Self::Sha1 => 20,
        }
    }
}

/// How the MAC is written in its header (`signatureEncoding` in Vapi's plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureEncoding {
    Hex,
    Base64,
}

impl SignatureEncoding {
    pub const ALL: [SignatureEncoding; 2] = [Self::Hex, Self::Base64];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hex => "hex",
            Self::Base64 => "base64",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Vapi's default header for the signature.
pub const DEFAULT_SIGNATURE_HEADER: &str = "x-signature";
/// Vapi's default header for the signed timestamp.
pub const DEFAULT_TIMESTAMP_HEADER: &str = "x-timestamp";

/// Headers that carry a plain secret, checked before any signature: a signature there would
/// be read as a wrong secret.
const RESERVED_HEADERS: [&str; 2] = ["x-vapi-secret", "authorization"];
const MAX_HEADER_LEN: usize = 64;
const MAX_PREFIX_LEN: usize = 32;

/// What the appliance expects of an HMAC-signed request. Header names are lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacPlan {
    pub algorithm: HmacAlgorithm,
    /// Whether the signed text is `{timestamp}.{body}` (with the timestamp in
    /// `timestamp_header`) or the body alone.
    pub include_timestamp: bool,
    pub timestamp_header: String,
    pub signature_header: String,
    pub encoding: SignatureEncoding,
    /// Written before the encoded MAC (`sha256=` in GitHub's style); empty for none.
    pub prefix: String,
}

impl Default for HmacPlan {
    /// Vapi's defaults: what a credential sends when only the algorithm and secret are set.
    fn default() -> Self {
        Self {
            algorithm: HmacAlgorithm::Sha256,
            include_timestamp: true,
            timestamp_header: DEFAULT_TIMESTAMP_HEADER.into(),
            signature_header: DEFAULT_SIGNATURE_HEADER.into(),
            encoding: SignatureEncoding::Hex,
            prefix: String::new(),
        }
    }
}

/// The plan as a clinic typed it (Settings → Voice agent). Blank headers mean Vapi's default,
/// as in Vapi's credential.
#[derive(Debug, Clone, Copy)]
pub struct HmacPlanInput<'a> {
    pub algorithm: &'a str,
    pub include_timestamp: bool,
    pub timestamp_header: &'a str,
    pub signature_header: &'a str,
    pub encoding: &'a str,
    pub prefix: &'a str,
}

impl HmacPlan {
    /// Checks a clinic's choice; the error is a sentence for the form.
    pub fn parse(input: &HmacPlanInput<'_>) -> Result<HmacPlan, String> {
        let algorithm = HmacAlgorithm::parse(input.algorithm.trim())
            .ok_or("The algorithm must be sha256, sha512 or sha1, as in the Vapi credential")?;
        let encoding = SignatureEncoding::parse(input.encoding.trim())
            .ok_or("The signature encoding must be hex or base64, as in the Vapi credential")?;
        let signature_header = header_name(
            input.signature_header,
            DEFAULT_SIGNATURE_HEADER,
            "signature",
        )?;
        let timestamp_header = header_name(
            input.timestamp_header,
            DEFAULT_TIMESTAMP_HEADER,
            "timestamp",
        )?;
        if input.include_timestamp && timestamp_header == signature_header {
            return Err("The timestamp and the signature need headers of their own".into());
        }
        let prefix = input.prefix.trim();
        if prefix.len() > MAX_PREFIX_LEN || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "The signature prefix must be at most {MAX_PREFIX_LEN} letters, digits or signs such as sha256=, without spaces"
            ));
        }
        Ok(HmacPlan {
            algorithm,
            include_timestamp: input.include_timestamp,
            timestamp_header,
            signature_header,
            encoding,
            prefix: prefix.to_string(),
        })
    }
}

/// A header name as HTTP allows it (a token), lowercased; blank is `default`.
fn header_name(raw: &str, default: &str, what: &str) -> Result<String, String> {
    let name = raw.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Ok(default.to_string());
    }
    let token = name.len() <= MAX_HEADER_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !token {
        return Err(format!(
            "The {what} header must be a header name such as {default} (letters, digits and dashes, at most {MAX_HEADER_LEN})"
        ));
    }
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Err(format!(
            "The {what} header cannot be {name}: that header carries the secret itself"
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> HmacPlanInput<'static> {
        HmacPlanInput {
            algorithm: "sha256",
            include_timestamp: true,
            timestamp_header: "",
            signature_header: "",
            encoding: "hex",
            prefix: "",
        }
    }

    #[test]
    fn blank_headers_are_vapis_defaults() {
        assert_eq!(HmacPlan::parse(&input()), Ok(HmacPlan::default()));
    }

    #[test]
    fn every_option_is_kept_as_typed() {
        let plan = HmacPlan::parse(&HmacPlanInput {
            algorithm: "sha512",
            include_timestamp: false,
            timestamp_header: " X-Sent-At ",
            signature_header: "X-Clinic-Signature",
            encoding: "base64",
            prefix: " v1= ",
        })
        .unwrap();
        assert_eq!(plan.algorithm, HmacAlgorithm::Sha512);
        assert!(!plan.include_timestamp);
        assert_eq!(plan.timestamp_header, "x-sent-at");
        assert_eq!(plan.signature_header, "x-clinic-signature");
        assert_eq!(plan.encoding, SignatureEncoding::Base64);
        assert_eq!(plan.prefix, "v1=");
        for a in HmacAlgorithm::ALL {
            assert_eq!(HmacAlgorithm::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn bad_choices_are_refused_with_a_sentence() {
        let cases: [(HmacPlanInput<'static>, &str); 7] = [
            (
                HmacPlanInput {
                    algorithm: "md5",
                    ..input()
                },
                "algorithm",
            ),
            (
                HmacPlanInput {
                    encoding: "base32",
                    ..input()
                },
                "encoding",
            ),
            (
                HmacPlanInput {
                    signature_header: "x signature",
                    ..input()
                },
                "signature header",
            ),
            (
                HmacPlanInput {
                    signature_header: "Authorization",
                    ..input()
                },
                "carries the secret",
            ),
            (
                HmacPlanInput {
                    timestamp_header: "x-vapi-secret",
                    ..input()
                },
                "carries the secret",
            ),
            (
                HmacPlanInput {
                    timestamp_header: "x-signature",
                    ..input()
                },
                "headers of their own",
            ),
            (
                HmacPlanInput {
                    prefix: "sha 256=",
                    ..input()
                },
                "prefix",
            ),
        ];
        for (input, says) in cases {
            let e = HmacPlan::parse(&input).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        // Without a timestamp its header is not used, so it may equal the signature's.
        let same = HmacPlanInput {
            include_timestamp: false,
            timestamp_header: "x-signature",
            ..input()
        };
        assert!(HmacPlan::parse(&same).is_ok());
    }
}
