//! States kept as text columns, typed: each is an enum whose variants map one to one onto the
//! strings in the database. Code outside `store` compares variants, never strings.

/// Declares a state enum with its database strings: `as_str`, `parse`, `Display`, and
/// `ToSql`/`FromSql` (an unknown string read back is an error, never a silent default).
macro_rules! text_state {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every state, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let s = v.as_str()?;
                $name::parse(s).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("unknown {} {s:?}", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}

pub(crate) use text_state;

#[cfg(test)]
mod tests {
    use super::super::appointments::AppointmentStatus;

    #[test]
    fn every_state_round_trips_through_its_text() {
        for s in AppointmentStatus::ALL {
            assert_eq!(AppointmentStatus::parse(s.as_str()), Some(*s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(AppointmentStatus::parse("Confirmed"), None);
    }

    #[test]
    fn an_unknown_text_in_the_database_is_an_error() {
        let c = rusqlite::Connection::open_in_memory().expect("memory db");
        let read: rusqlite::Result<AppointmentStatus> =
            c.query_row("SELECT 'teleported'", [], |r| r.get(0));
        assert!(read.is_err());
        let ok: AppointmentStatus = c
            .query_row("SELECT 'no_show'", [], |r| r.get(0))
            .expect("known state");
        assert_eq!(ok, AppointmentStatus::NoShow);
    }
}
