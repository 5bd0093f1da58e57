//! Customers' contact data (name, e-mail, phone) encrypted at rest: sealed with the key ring
//! before every write, opened after every read, each value bound to its organisation, column and
//! customer so a ciphertext copied to another row or tenant does not open. Values written before
//! encryption (plain text) still read, so an existing database can be re-sealed in place.

use escucha_core::customer::Customer;
use escucha_core::values::Email;

use crate::crypto::{KeyRing, associated_data, is_encrypted};
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
