//! Customers' contact data (name, e-mail, phone) encrypted at rest: sealed with the key ring
//! before every write, opened after every read, each value bound to its organisation, column and
//! customer so a ciphertext copied to another row or tenant does not open. Values written before
//! encryption (plain text) still read, so an existing database can be re-sealed in place.

use escucha_core::customer::Customer;
use escucha_core::values::Email;

use crate::crypto::{KeyRing, associated_data, is_encrypted, key_id_of};
use crate::rows::CustomerRow;
use crate::{StoreError, StoreResult};

/// The encrypted contact columns of one customer, ready to bind.
pub(crate) struct SealedContact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Blind index of the e-mail (see [`email_index`]).
    pub email_index: Option<String>,
}

/// The blind index a customer's e-mail is found by (`customers.email_index`).
pub(crate) fn email_index(keys: &KeyRing, org: escucha_core::ids::OrgId, email: &str) -> String {
    keys.blind_index(&crate::crypto::index_context(org, "customers.email"), email)
}

fn seal_one(keys: &KeyRing, c: &Customer, column: &str, value: Option<&str>) -> StoreResult<Option<String>> {
    value
        .map(|v| keys.encrypt(v, &associated_data(c.org_id, column, c.external_id.as_str())))
        .transpose()
        .map_err(|e| StoreError::Crypto(e.to_string()))
}

/// Seals a customer's contact fields for writing.
pub(crate) fn seal(keys: &KeyRing, c: &Customer) -> StoreResult<SealedContact> {
    Ok(SealedContact {
        name: seal_one(keys, c, "customers.name", c.name.as_deref())?,
        email: seal_one(keys, c, "customers.email", c.email.as_ref().map(Email::as_str))?,
        phone: seal_one(keys, c, "customers.phone", c.phone.as_deref())?,
        email_index: c.email.as_ref().map(|e| email_index(keys, c.org_id, e.as_str())),
    })
}

/// The stored ciphertexts of a customer's name, e-mail and phone, as read.
pub(crate) type RawContact = [Option<String>; 3];

/// Seals a customer's contact fields for an update of `before` (read with `raw`): a field whose
/// value did not change keeps its ciphertext when that was sealed under the current key, so an
/// update that leaves contact data alone encrypts nothing; a changed field, or one sealed under
/// an older key (or stored before encryption), is sealed anew.
pub(crate) fn seal_update(
    keys: &KeyRing,
    before: &Customer,
    raw: &RawContact,
    after: &Customer,
) -> StoreResult<SealedContact> {
    let current = keys.current_key_id();
    let field =
        |column: &str, old: Option<&str>, new: Option<&str>, raw: &Option<String>| -> StoreResult<Option<String>> {
            match (old == new, raw) {
                (true, None) if new.is_none() => Ok(None),
                (true, Some(r)) if is_encrypted(r) && key_id_of(r).is_ok_and(|id| id == current) => Ok(Some(r.clone())),
                _ => seal_one(keys, after, column, new),
            }
        };
    Ok(SealedContact {
        name: field("customers.name", before.name.as_deref(), after.name.as_deref(), &raw[0])?,
        email: field(
            "customers.email",
            before.email.as_ref().map(Email::as_str),
            after.email.as_ref().map(Email::as_str),
            &raw[1],
        )?,
        phone: field("customers.phone", before.phone.as_deref(), after.phone.as_deref(), &raw[2])?,
        email_index: after.email.as_ref().map(|e| email_index(keys, after.org_id, e.as_str())),
    })
}

/// Opens a customer row read for an update, keeping the ciphertexts it held.
pub(crate) fn open_for_update(keys: &KeyRing, row: CustomerRow) -> StoreResult<(Customer, RawContact)> {
    let raw = [row.name.clone(), row.email.clone(), row.phone.clone()];
    Ok((open(keys, row)?, raw))
}

/// Opens a customer row read from the database.
pub(crate) fn open(keys: &KeyRing, mut row: CustomerRow) -> StoreResult<Customer> {
    let org = escucha_core::ids::OrgId(row.org_id);
    let open_one = |column: &str, value: Option<String>| -> StoreResult<Option<String>> {
        match value {
            Some(v) if is_encrypted(&v) => keys
                .decrypt(&v, &associated_data(org, column, &row.external_id))
                .map(Some)
                .map_err(|e| StoreError::Crypto(format!("{column} of customer {}: {e}", row.id))),
            other => Ok(other),
        }
    };
    let name = open_one("customers.name", row.name.take())?;
    let email = open_one("customers.email", row.email.take())?;
    let phone = open_one("customers.phone", row.phone.take())?;
    row.name = name;
    row.email = email;
    row.phone = phone;
    Customer::try_from(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use escucha_core::ids::OrgId;
    use escucha_core::values::ExternalId;

    fn customer(name: &str, email: &str) -> Customer {
        let mut c = Customer::blank(OrgId(1), ExternalId::parse("C-1").unwrap(), chrono::Utc::now());
        c.name = Some(name.into());
        c.email = Some(Email::parse(email).unwrap());
        c
    }

    fn raw(s: &SealedContact) -> RawContact {
        [s.name.clone(), s.email.clone(), s.phone.clone()]
    }

    #[test]
    fn updates_reseal_only_changed_fields_or_old_keys() {
        let keys = KeyRing::generate().unwrap();
        let before = customer("Marta Ruiz", "marta@example.com");
        let stored = seal(&keys, &before).unwrap();
        // Nothing changed: the same ciphertexts, no encryption.
        let same = seal_update(&keys, &before, &raw(&stored), &before).unwrap();
        assert_eq!(
            (same.name.as_ref(), same.email.as_ref(), same.phone.as_ref()),
            (stored.name.as_ref(), stored.email.as_ref(), None)
        );
        assert_eq!(same.email_index, stored.email_index);
        // A changed name is sealed anew; the e-mail keeps its ciphertext.
        let renamed = customer("Marta Ruiz López", "marta@example.com");
        let sealed = seal_update(&keys, &before, &raw(&stored), &renamed).unwrap();
        assert_ne!(sealed.name, stored.name);
        assert_eq!(sealed.email, stored.email);
        let ad = associated_data(OrgId(1), "customers.name", "C-1");
        assert_eq!(keys.decrypt(sealed.name.as_deref().unwrap(), &ad).unwrap(), "Marta Ruiz López");
        // Under a new key every field is re-sealed, even unchanged ones.
        let rotated = keys.with_new_key().unwrap();
        let resealed = seal_update(&rotated, &before, &raw(&stored), &before).unwrap();
        assert_ne!(resealed.email, stored.email);
        assert_eq!(key_id_of(resealed.email.as_deref().unwrap()).unwrap(), rotated.current_key_id());
        // A value stored before encryption is sealed on its next update.
        let plain: RawContact = [Some("Marta Ruiz".into()), Some("marta@example.com".into()), None];
        let migrated = seal_update(&keys, &before, &plain, &before).unwrap();
        assert!(is_encrypted(migrated.name.as_deref().unwrap()) && is_encrypted(migrated.email.as_deref().unwrap()));
    }
}
