/// AES-GCM's nonce length (96 bits), which `aws_lc_rs::aead::NONCE_LEN` also names.
pub const NONCE_LEN: usize = 12;

/// A customer secret as stored: nothing here opens without KMS Decrypt under the context it
/// was sealed for (the `customer` crate's envelope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub nonce: [u8; NONCE_LEN],
    pub wrapped_key: Vec<u8>,
    pub key_id: String,
}
