<?php
/**
 * KYC gate addon: sign-in into the gate. The addon signs a short-lived,
 * single-use, audience-bound JWT for the logged-in client (sub = WHMCS client
 * id) with a private key that never leaves WHMCS: Ed25519 ("EdDSA") through
 * sodium, or RS256 through openssl. The gate verifies it against the public
 * keys of its configuration (shared/signin). docs/whmcs.md "Sign-in into the
 * gate" is the contract.
 *
 * Keys are kept as secrets (kycgate_secret): "signin_key_active" signs;
 * "signin_key_pending" is a new key waiting to be activated (rotation: its
 * public half goes into the gate's configuration first); "signin_key_retired"
 * is the previous key, shown so the operator removes it from the gate later.
 * Each is JSON {"kid","alg","private"}: for EdDSA the base64 of sodium's
 * 64-byte secret key, for RS256 a PEM private key.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/** Lifetime of a sign-in token in seconds (the contract allows at most 120). */
const KYCGATE_SIGNIN_TTL = 60;

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410). */
const KYCGATE_ED25519_SPKI_PREFIX = '302a300506032b6570032100';
/** DER prefix of an Ed25519 PKCS#8 private key (RFC 8410), before the 32-byte seed. */
const KYCGATE_ED25519_PKCS8_PREFIX = '302e020100300506032b657004220420';

function kycgate_b64url($bin)
{
    return rtrim(strtr(base64_encode($bin), '+/', '-_'), '=');
}

/** A sign-in key from its slot (active, pending, retired), or null. */
function kycgate_signin_key($slot = 'active')
{
    $json = kycgate_secret('signin_key_' . $slot);
    if ($json === '') {
        return null;
    }
    $key = json_decode($json, true);
    if (!is_array($key) || !isset($key['kid'], $key['alg'], $key['private'])) {
        return null;
    }
    return $key;
}

/** Stores a key in a slot (null clears it). */
function kycgate_store_signin_key($slot, $key)
{
    return kycgate_set_secret('signin_key_' . $slot, $key === null ? '' : json_encode($key, JSON_UNESCAPED_SLASHES));
}

/** Generates a key pair: alg EdDSA (Ed25519, sodium) or RS256 (RSA 2048, openssl). */
function kycgate_generate_signin_key($alg)
{
    if ($alg === 'RS256') {
        $res = openssl_pkey_new(array('private_key_bits' => 2048, 'private_key_type' => OPENSSL_KEYTYPE_RSA));
        if ($res === false || !openssl_pkey_export($res, $pem)) {
            throw new RuntimeException('openssl could not generate an RSA key');
        }
        return kycgate_finish_key('RS256', $pem);
    }
    $pair = sodium_crypto_sign_keypair();
    $key = kycgate_finish_key('EdDSA', base64_encode(sodium_crypto_sign_secretkey($pair)));
    sodium_memzero($pair);
    return $key;
}

/**
 * Imports a pasted private key: for EdDSA a PEM "PRIVATE KEY" (PKCS#8
 * Ed25519), or the base64 of a 32-byte seed or a 64-byte sodium secret key;
 * for RS256 a PEM RSA private key of at least 2048 bits.
 */
function kycgate_import_signin_key($alg, $text)
{
    $text = trim((string) $text);
    if ($alg === 'RS256') {
        $res = openssl_pkey_get_private($text);
        if ($res === false) {
            throw new InvalidArgumentException('not a PEM private key');
        }
        $d = openssl_pkey_get_details($res);
        if (!is_array($d) || $d['type'] !== OPENSSL_KEYTYPE_RSA || $d['bits'] < 2048) {
            throw new InvalidArgumentException('RS256 needs an RSA key of at least 2048 bits');
        }
        openssl_pkey_export($res, $pem);
        return kycgate_finish_key('RS256', $pem);
    }
    if ($alg !== 'EdDSA') {
        throw new InvalidArgumentException('alg must be EdDSA or RS256');
    }
    if (preg_match('/-----BEGIN PRIVATE KEY-----(.+)-----END PRIVATE KEY-----/s', $text, $m)) {
        $der = base64_decode(preg_replace('/\s+/', '', $m[1]), true);
        $prefix = hex2bin(KYCGATE_ED25519_PKCS8_PREFIX);
        if ($der === false || strlen($der) !== 48 || substr($der, 0, 16) !== $prefix) {
            throw new InvalidArgumentException('not a PKCS#8 Ed25519 private key');
        }
        $seed = substr($der, 16);
    } else {
        $raw = base64_decode($text, true);
        if ($raw === false || (strlen($raw) !== 32 && strlen($raw) !== 64)) {
            throw new InvalidArgumentException('give a PEM private key or the base64 of a 32-byte seed or 64-byte secret key');
        }
        $seed = strlen($raw) === 32 ? $raw : substr($raw, 0, 32);
    }
    $pair = sodium_crypto_sign_seed_keypair($seed);
    return kycgate_finish_key('EdDSA', base64_encode(sodium_crypto_sign_secretkey($pair)));
}

/** Adds the kid to a key. */
function kycgate_finish_key($alg, $private)
{
    $key = array('alg' => $alg, 'private' => $private, 'kid' => '');
    $key['kid'] = kycgate_key_id(kycgate_public_pem($key));
    return $key;
}

/** The public half of a key, PEM "PUBLIC KEY" (SPKI), as the gate's configuration takes it. */
function kycgate_public_pem(array $key)
{
    if ($key['alg'] === 'RS256') {
        $d = openssl_pkey_get_details(openssl_pkey_get_private($key['private']));
        return $d['key'];
    }
    $secret = base64_decode($key['private'], true);
    $der = hex2bin(KYCGATE_ED25519_SPKI_PREFIX) . sodium_crypto_sign_publickey_from_secretkey($secret);
    return "-----BEGIN PUBLIC KEY-----\n" . chunk_split(base64_encode($der), 64, "\n") . "-----END PUBLIC KEY-----\n";
}

/** A key's id: "whmcs-" + the first 16 characters of base64url(SHA-256(SPKI DER)). */
function kycgate_key_id($publicPem)
{
    $b64 = preg_replace('/-----[A-Z ]+-----|\s+/', '', $publicPem);
    return 'whmcs-' . substr(kycgate_b64url(hash('sha256', base64_decode($b64), true)), 0, 16);
}

/** The gate's key configuration entries ({kid, alg, publicKey}) for the given keys. */
function kycgate_key_config(array $keys)
{
    $out = array();
    foreach ($keys as $key) {
        if ($key !== null) {
            $out[] = array('kid' => $key['kid'], 'alg' => $key['alg'], 'publicKey' => kycgate_public_pem($key));
        }
    }
    return $out;
}

/** Signs a JWS compact serialisation of the header and claims with a key. */
function kycgate_sign_jwt(array $header, array $claims, array $key)
{
    $input = kycgate_b64url(json_encode($header, JSON_UNESCAPED_SLASHES)) . '.'
        . kycgate_b64url(json_encode($claims, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
    if ($key['alg'] === 'RS256') {
        $pkey = openssl_pkey_get_private($key['private']);
        if ($pkey === false || !openssl_sign($input, $signature, $pkey, OPENSSL_ALGO_SHA256)) {
            throw new RuntimeException('openssl could not sign');
        }
    } else {
        $signature = sodium_crypto_sign_detached($input, base64_decode($key['private'], true));
    }
    return $input . '.' . kycgate_b64url($signature);
}

/**
 * Mints the sign-in token of a client: iss and aud from the settings,
 * sub = the client id, a 60-second lifetime, a fresh 128-bit jti, and the
 * client's language if known.
 */
function kycgate_mint_signin_token($clientId, $lang)
{
    $key = kycgate_signin_key('active');
    if ($key === null) {
        throw new RuntimeException('no sign-in key: generate one in Addons > KYC gate');
    }
    $s = kycgate_settings();
    if ($s['signin_audience'] === '' || $s['signin_issuer'] === '') {
        throw new RuntimeException('sign-in issuer or audience not set');
    }
    $now = time();
    $claims = array(
        'iss' => $s['signin_issuer'],
        'aud' => $s['signin_audience'],
        'sub' => (string) (int) $clientId,
        'iat' => $now,
        'exp' => $now + KYCGATE_SIGNIN_TTL,
        'jti' => kycgate_b64url(random_bytes(16)),
    );
    if ($lang === 'en' || $lang === 'zh-Hant') {
        $claims['lang'] = $lang;
    }
    return kycgate_sign_jwt(array('alg' => $key['alg'], 'kid' => $key['kid'], 'typ' => 'JWT'), $claims, $key);
}
