//! What kind of clinic this is, and the catalogue of services each kind starts with.
//!
//! A new clinic is asked its kind once, at setup (`/setup` or `voxanne init --clinic-type`).
//! The kind brings typical services with durations and the words callers use for them; the
//! prices are samples, and the whole catalogue stays "to review" until an owner says it is
//! right (see `store::orgs::mark_catalogue_reviewed`). Until then the voice tools treat every
//! price as unknown. "Other" starts empty.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClinicType {
    Dental,
    Aesthetics,
    PlasticSurgery,
    Dermatology,
    Physiotherapy,
    GeneralPractice,
    Other,
}

/// A service a new clinic of some kind starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartingService {
    pub name: &'static str,
    pub duration_minutes: u32,
    /// A sample price: shown to staff as one, never quoted until the catalogue is reviewed.
    pub price_cents: i64,
    /// Already normalised (lower case, one space between words).
    pub keywords: Vec<&'static str>,
}

impl ClinicType {
    /// In the order the setup page lists them.
    pub const ALL: [ClinicType; 7] = [
        ClinicType::Dental,
        ClinicType::Aesthetics,
        ClinicType::PlasticSurgery,
        ClinicType::Dermatology,
        ClinicType::Physiotherapy,
        ClinicType::GeneralPractice,
        ClinicType::Other,
    ];

    /// The stored and command-line name.
    pub fn slug(self) -> &'static str {
        match self {
            ClinicType::Dental => "dental",
            ClinicType::Aesthetics => "aesthetics",
            ClinicType::PlasticSurgery => "plastic-surgery",
            ClinicType::Dermatology => "dermatology",
            ClinicType::Physiotherapy => "physiotherapy",
            ClinicType::GeneralPractice => "general-practice",
            ClinicType::Other => "other",
        }
    }

    /// What staff read.
    pub fn label(self) -> &'static str {
        match self {
            ClinicType::Dental => "Dental",
            ClinicType::Aesthetics => "Aesthetics / med spa",
            ClinicType::PlasticSurgery => "Plastic surgery",
            ClinicType::Dermatology => "Dermatology",
            ClinicType::Physiotherapy => "Physiotherapy",
            ClinicType::GeneralPractice => "General practice",
            ClinicType::Other => "Other",
        }
    }

    /// Reads a slug forgivingly: case, spaces, underscores and a few common names
    /// ("med spa", "physio", "gp") are accepted.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let key: String = raw
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| {
                if c == '_' || c == ' ' || c == '/' {
                    '-'
                } else {
                    c
                }
            })
            .collect();
        let found = match key.as_str() {
            "dental" | "dentist" | "dentistry" => Some(ClinicType::Dental),
            "aesthetics" | "aesthetic" | "med-spa" | "medspa" | "aesthetics---med-spa" => {
                Some(ClinicType::Aesthetics)
            }
            "plastic-surgery" | "plastic" => Some(ClinicType::PlasticSurgery),
            "dermatology" | "derm" => Some(ClinicType::Dermatology),
            "physiotherapy" | "physio" | "physical-therapy" => Some(ClinicType::Physiotherapy),
            "general-practice" | "gp" | "family-medicine" | "primary-care" => {
                Some(ClinicType::GeneralPractice)
            }
            "other" => Some(ClinicType::Other),
            _ => None,
        };
        found.ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|t| t.slug()).collect();
            format!(
                "unknown clinic type “{}”; choose one of: {}",
                raw.trim(),
                names.join(", ")
            )
        })
    }

    /// The services a new clinic of this kind starts with (sample prices).
    pub fn starting_services(self) -> Vec<StartingService> {
        let rows: &[(&'static str, u32, i64, &'static str)] = match self {
            ClinicType::Dental => &[
                ("Check-up", 30, 95, "check-up|check up|checkup|exam|examination|dental exam"),
                ("Cleaning", 45, 120, "cleaning|clean|hygiene|hygienist|scale and polish|scaling"),
                ("Filling", 60, 180, "filling|cavity|tooth decay"),
                ("Teeth Whitening", 60, 350, "whitening|teeth whitening|bleaching|whiten"),
                ("Emergency Appointment", 30, 120, "emergency|toothache|tooth pain|broken tooth|broke a tooth|chipped tooth|cracked tooth|abscess"),
                ("Root Canal", 90, 900, "root canal|endodontic"),
                ("Crown", 90, 1_100, "crown|cap"),
                ("Extraction", 45, 250, "extraction|pull a tooth|tooth removal|wisdom tooth|wisdom teeth"),
                ("Orthodontic Consultation", 30, 0, "orthodontic|braces|aligners|invisalign|clear aligners"),
            ],
            ClinicType::Aesthetics => &[
                ("Consultation", 30, 0, "consultation|consult|assessment"),
                ("Botox", 30, 400, "botox|botulinum|anti-wrinkle|wrinkle injections|wrinkle relaxer|dysport|xeomin"),
                ("Dermal Fillers", 45, 500, "filler|dermal filler|lip filler|lip injections|cheek filler|juvederm|restylane"),
                ("Chemical Peel", 45, 150, "chemical peel|peel|skin peel"),
                ("Microneedling", 60, 300, "microneedling|micro needling|collagen induction"),
                ("Laser Hair Removal", 30, 200, "laser hair removal|hair removal|laser"),
                ("Facial", 60, 150, "facial|hydrating facial|skin treatment"),
            ],
            ClinicType::PlasticSurgery => &[
                ("Botox", 30, 400, "botox|botulinum|anti-wrinkle|wrinkle injections|wrinkle relaxer|dysport|xeomin"),
                ("Facelift", 180, 8_000, "facelift|face lift|rhytidectomy|mini facelift"),
                ("Rhinoplasty", 150, 6_000, "rhinoplasty|nose job|nose surgery|nose reshaping"),
                ("Breast Augmentation", 120, 7_500, "breast augmentation|breast implants|breast enlargement|boob job|augmentation"),
                ("Liposuction", 120, 5_000, "liposuction|lipo|lipoplasty|fat removal"),
                // "lip augmentation" lives here so it out-specifies Breast Augmentation's bare
                // "augmentation".
                ("Fillers", 45, 500, "filler|dermal filler|lip filler|lip augmentation|lip injections|cheek filler|juvederm|restylane"),
                ("Consultation", 30, 150, "consultation|consult|assessment"),
            ],
            ClinicType::Dermatology => &[
                ("Skin Check", 30, 150, "skin check|mole check|skin cancer check|mole map|skin exam"),
                ("Acne Consultation", 30, 150, "acne|breakouts|pimples"),
                ("Rash or Eczema Consultation", 30, 150, "eczema|rash|psoriasis|dermatitis|itchy skin"),
                ("Mole Removal", 45, 300, "mole removal|remove a mole|skin tag|lesion removal"),
                ("Cryotherapy", 15, 100, "cryotherapy|freezing|wart|warts|liquid nitrogen"),
                ("Cosmetic Consultation", 30, 0, "cosmetic|cosmetic consultation|anti-aging|botox"),
            ],
            ClinicType::Physiotherapy => &[
                ("Initial Assessment", 60, 120, "initial assessment|first appointment|assessment|new patient"),
                ("Follow-up Session", 45, 90, "follow-up|follow up|treatment session|session"),
                ("Sports Injury Assessment", 60, 120, "sports injury|sprain|strain|torn ligament"),
                ("Back and Neck Pain", 45, 90, "back pain|neck pain|sciatica|back|neck"),
                ("Post-surgery Rehabilitation", 45, 90, "rehab|rehabilitation|post-surgery|after surgery|knee replacement"),
                ("Sports Massage", 60, 80, "massage|sports massage|deep tissue"),
                ("Dry Needling", 30, 70, "dry needling|needling|acupuncture"),
            ],
            ClinicType::GeneralPractice => &[
                ("Standard Appointment", 15, 80, "appointment|see a doctor|see the doctor|gp|consultation"),
                ("Long Appointment", 30, 140, "long appointment|double appointment|several problems"),
                ("Vaccination", 15, 40, "vaccination|vaccine|flu shot|flu jab|immunisation|immunization|shot"),
                ("Blood Test", 15, 40, "blood test|bloods|blood work|blood draw"),
                ("Health Check", 45, 180, "health check|physical|annual physical|check-up|checkup"),
                ("Travel Health Consultation", 30, 90, "travel|travel vaccines|travel health"),
            ],
            ClinicType::Other => &[],
        };
        rows.iter()
            .map(
                |&(name, duration_minutes, dollars, keywords)| StartingService {
                    name,
                    duration_minutes,
                    price_cents: dollars * 100,
                    keywords: keywords.split('|').collect(),
                },
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::{best_match, normalise_keywords, ServiceTerms};

    #[test]
    fn slugs_round_trip_and_common_names_are_understood() {
        for t in ClinicType::ALL {
            assert_eq!(ClinicType::parse(t.slug()), Ok(t));
            assert_eq!(ClinicType::parse(&t.slug().to_uppercase()), Ok(t));
        }
        assert_eq!(ClinicType::parse("med spa"), Ok(ClinicType::Aesthetics));
        assert_eq!(ClinicType::parse("Physio"), Ok(ClinicType::Physiotherapy));
        assert_eq!(
            ClinicType::parse("general_practice"),
            Ok(ClinicType::GeneralPractice)
        );
        let err = ClinicType::parse("vet").unwrap_err();
        assert!(
            err.contains("“vet”") && err.contains("dental, aesthetics"),
            "{err}"
        );
    }

    #[test]
    fn every_catalogue_is_valid_for_the_service_editor() {
        for t in ClinicType::ALL {
            let list = t.starting_services();
            let mut names: Vec<_> = list.iter().map(|s| s.name.to_lowercase()).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), list.len(), "{t:?}: names are unique");
            for s in &list {
                assert!((5..=720).contains(&s.duration_minutes), "{}", s.name);
                assert!(s.price_cents >= 0 && s.name.chars().count() <= 80);
                // Already normalised: the keyword editor would keep them as they are.
                assert_eq!(normalise_keywords(&s.keywords.join(",")), s.keywords);
            }
        }
        assert!(ClinicType::Other.starting_services().is_empty());
    }

    fn matched(t: ClinicType, query: &str) -> Option<&'static str> {
        let list = t.starting_services();
        let kw: Vec<Vec<String>> = list
            .iter()
            .map(|s| s.keywords.iter().map(|k| k.to_string()).collect())
            .collect();
        let terms: Vec<ServiceTerms<'_>> = list
            .iter()
            .zip(&kw)
            .map(|(s, k)| ServiceTerms {
                name: s.name,
                keywords: k,
            })
            .collect();
        best_match(query, &terms).map(|i| list[i].name)
    }

    #[test]
    fn callers_words_find_each_kinds_services() {
        use ClinicType::*;
        assert_eq!(matched(Dental, "a cleaning please"), Some("Cleaning"));
        assert_eq!(
            matched(Dental, "I broke a tooth"),
            Some("Emergency Appointment")
        );
        assert_eq!(
            matched(Dental, "my broken tooth"),
            Some("Emergency Appointment")
        );
        assert_eq!(
            matched(Dental, "invisalign"),
            Some("Orthodontic Consultation")
        );
        assert_eq!(matched(Dental, "botox"), None);
        assert_eq!(matched(Aesthetics, "lip filler"), Some("Dermal Fillers"));
        assert_eq!(matched(PlasticSurgery, "nose job"), Some("Rhinoplasty"));
        assert_eq!(matched(Dermatology, "a mole check"), Some("Skin Check"));
        assert_eq!(
            matched(Physiotherapy, "my back pain"),
            Some("Back and Neck Pain")
        );
        assert_eq!(matched(GeneralPractice, "a flu shot"), Some("Vaccination"));
    }

    #[test]
    fn no_plastic_surgery_service_outside_its_own_catalogue() {
        let plastic = [
            "Facelift",
            "Rhinoplasty",
            "Breast Augmentation",
            "Liposuction",
        ];
        for t in ClinicType::ALL {
            if t == ClinicType::PlasticSurgery {
                continue;
            }
            for s in t.starting_services() {
                assert!(!plastic.contains(&s.name), "{t:?} lists {}", s.name);
            }
        }
    }
}
