// Secrets and checksums: random tokens, SHA-256 digests, argon2id for passwords.
#pragma once

#include <string>
#include <string_view>

namespace dockmon {

// Initialises libsodium; safe to call more than once. Throws std::runtime_error when it cannot.
void crypto_init();

// `bytes` random bytes as URL-safe base64 without padding (32 bytes -> 43 characters).
std::string random_token(std::size_t bytes = 32);

// Standard base64 with padding (RFC 4648 section 4), as HTTP's Basic credentials and signatures use.
std::string base64_encode(std::string_view bytes);

// A random version-4 UUID in its canonical text form.
std::string random_uuid();

// Lower-case hex SHA-256 of the input: checksums, and hashes of high-entropy secrets (tokens, API keys),
// never of passwords.
std::string sha256_hex(std::string_view data);
// The same of a file's bytes, read in pieces. Throws std::runtime_error when it cannot be read.
std::string sha256_file_hex(const std::string& path);
// True when s has the form sha256_hex gives: 64 lower-case hex digits (as Docker's image digests and
// container ids have too).
bool is_sha256_hex(std::string_view s);

// argon2id (libsodium's interactive limits) in the encoded form that carries its own salt and parameters.
std::string hash_password(std::string_view password);
bool verify_password(std::string_view encoded_hash, std::string_view password);

// Equality that takes the same time wherever the first difference is.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace dockmon
