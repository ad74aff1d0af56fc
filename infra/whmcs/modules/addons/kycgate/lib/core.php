<?php
/**
 * KYC gate addon: settings, the addon's tables, the signed calls to the gate
 * (events through a durable outbox, reads for the pages and the guard), and
 * the events themselves. docs/whmcs.md describes the contract with the gate.
 *
 * Written for PHP 7.2+ (WHMCS 8.x) and PHP 8.x: no match, no named
 * arguments, no nullsafe operator.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

use WHMCS\Database\Capsule;

const KYCGATE_MODULE = 'kycgate';
const KYCGATE_VERSION = '2.0.0';
/** The reason the gate's billing adapter gives WHMCS when it suspends (shared/kyc SuspendReasonKYC). */
const KYCGATE_DEFAULT_SUSPEND_REASON = 'KYC verification not completed within 3 days of ordering';

/* ------------------------------------------------------------------ settings */

/**
 * What the addon remembers for the length of one WHMCS request: settings,
 * secrets, the gate's answers, and the guard's decisions (PreModuleCreate and
 * AfterModuleCreate of one create run in the same request).
 */
function &kycgate_cache()
{
    static $cache = array('settings' => null, 'secrets' => array(), 'kyc' => array(),
        'state' => array('create' => array(), 'unsuspend' => array(), 'edit' => array()));
    return $cache;
}

/** Forgets everything kycgate_cache() holds (a new request; tests). */
function kycgate_request_reset()
{
    $cache = &kycgate_cache();
    $cache = array('settings' => null, 'secrets' => array(), 'kyc' => array(),
        'state' => array('create' => array(), 'unsuspend' => array(), 'edit' => array()));
}

/** The defaults of every setting of the configuration page (kycgate_config). */
function kycgate_defaults()
{
    return array(
        'gate_url' => '',
        'signin_url' => '',
        'signin_audience' => '',
        'signin_issuer' => 'whmcs',
        'console_url' => '',
        'trigger' => 'paid',
        'products' => '',
        'server_regions' => '',
        'product_regions' => '',
        'default_region' => '',
        'region_timezones' => "hk=Asia/Hong_Kong\ntw=Asia/Taipei",
        'languages' => "english=en\nchinese=zh-Hant\nchinese-tw=zh-Hant\nchinese-traditional=zh-Hant\ntraditional-chinese=zh-Hant",
        'db_timezone' => '',
        'suspend_reason' => KYCGATE_DEFAULT_SUSPEND_REASON,
        'timeout' => '10',
        'read_timeout' => '4',
        'max_attempts' => '72',
        'override_minutes' => '60',
        'checkout_notice' => 'on',
        'delete_on_deactivate' => '',
    );
}

/**
 * The addon's settings as WHMCS stores them (tbladdonmodules), over the
 * defaults, with the list settings parsed. Secrets are not here: see
 * kycgate_secret().
 */
function kycgate_settings($fresh = false)
{
    $cache = &kycgate_cache();
    if (isset($cache['settings']) && !$fresh) {
        return $cache['settings'];
    }
    $s = kycgate_defaults();
    foreach (Capsule::table('tbladdonmodules')->where('module', KYCGATE_MODULE)->get() as $row) {
        if (array_key_exists($row->setting, $s) && $row->value !== null) {
            $s[$row->setting] = (string) $row->value;
        }
    }
    $s['gate_url'] = rtrim(trim($s['gate_url']), '/');
    if (!in_array($s['trigger'], array('paid', 'accept', 'checkout'), true)) {
        $s['trigger'] = 'paid';
    }
    $s['product_map'] = kycgate_parse_map($s['products']);
    $s['server_region_map'] = kycgate_parse_map($s['server_regions']);
    $s['product_region_map'] = kycgate_parse_map($s['product_regions']);
    $s['timezone_map'] = kycgate_parse_map($s['region_timezones']);
    $s['language_map'] = array_change_key_case(kycgate_parse_map($s['languages']), CASE_LOWER);
    if ($s['signin_url'] === '' && $s['gate_url'] !== '') {
        $s['signin_url'] = $s['gate_url'] . '/verify/signin';
    }
    if ($s['signin_audience'] === '' && $s['signin_url'] !== '') {
        $s['signin_audience'] = preg_replace('#/signin$#', '', $s['signin_url']);
    }
    if ($s['console_url'] === '' && $s['gate_url'] !== '') {
        $s['console_url'] = $s['gate_url'] . '/console';
    }
    $cache['settings'] = $s;
    return $s;
}

/** Parses "key=value" lines (also comma-separated) into an array. */
function kycgate_parse_map($text)
{
    $out = array();
    foreach (preg_split('/[\r\n,]+/', (string) $text) as $line) {
        $line = trim($line);
        if ($line === '' || $line[0] === '#' || strpos($line, '=') === false) {
            continue;
        }
        list($k, $v) = array_map('trim', explode('=', $line, 2));
        if ($k !== '' && $v !== '') {
            $out[$k] = $v;
        }
    }
    return $out;
}

/* ------------------------------------------------------------------- secrets */

/**
 * A secret (the webhook secret, the sign-in private keys), kept in
 * mod_kycgate_secrets encrypted with WHMCS's own key (EncryptPassword /
 * DecryptPassword API). Empty string when unset.
 */
function kycgate_secret($name)
{
    $cache = &kycgate_cache();
    if (isset($cache['secrets'][$name])) {
        return $cache['secrets'][$name];
    }
    $row = Capsule::table('mod_kycgate_secrets')->where('name', $name)->first();
    if (!$row || (string) $row->value === '') {
        return '';
    }
    $r = localAPI('DecryptPassword', array('password2' => (string) $row->value));
    $value = (is_array($r) && isset($r['result']) && $r['result'] === 'success') ? (string) $r['password'] : '';
    $cache['secrets'][$name] = $value;
    return $value;
}

/** Stores (or, with '', removes) a secret. */
function kycgate_set_secret($name, $value)
{
    $cache = &kycgate_cache();
    unset($cache['secrets'][$name]);
    if ((string) $value === '') {
        Capsule::table('mod_kycgate_secrets')->where('name', $name)->delete();
        return true;
    }
    $r = localAPI('EncryptPassword', array('password2' => (string) $value));
    if (!is_array($r) || !isset($r['result']) || $r['result'] !== 'success') {
        return false;
    }
    $now = date('Y-m-d H:i:s');
    if (Capsule::table('mod_kycgate_secrets')->where('name', $name)->first()) {
        Capsule::table('mod_kycgate_secrets')->where('name', $name)->update(array('value' => $r['password'], 'updated_at' => $now));
    } else {
        Capsule::table('mod_kycgate_secrets')->insert(array('name' => $name, 'value' => $r['password'], 'updated_at' => $now));
    }
    return true;
}

/* -------------------------------------------------------------------- tables */

/**
 * Creates the addon's tables that do not exist yet (activation, upgrade).
 * mod_kycgate_outbox keeps the layout of the old hook file's table, so events
 * it had not delivered yet are delivered by the addon.
 */
function kycgate_schema()
{
    $schema = Capsule::schema();
    $tables = array(
        'mod_kycgate_outbox' => function ($t) {
            $t->increments('id');
            $t->string('event_id', 160)->unique();
            $t->string('type', 32);
            $t->mediumText('payload');
            $t->integer('attempts')->default(0);
            $t->string('last_error', 64)->default('');
            $t->dateTime('next_attempt_at')->nullable();
            $t->dateTime('created_at')->nullable();
        },
        'mod_kycgate_services' => function ($t) {
            // The KYC services reported to the gate: the gate's order id of a
            // service must be known after WHMCS deleted the service.
            $t->integer('service_id')->unsigned()->primary();
            $t->integer('order_id')->unsigned();
            $t->integer('client_id')->unsigned();
            $t->string('product_id', 64);
            $t->string('hold_id', 64);
            $t->dateTime('created_at')->nullable();
        },
        'mod_kycgate_overrides' => function ($t) {
            $t->increments('id');
            $t->integer('service_id')->unsigned()->index();
            $t->integer('client_id')->unsigned();
            $t->integer('admin_id')->unsigned();
            $t->string('reason', 255)->default('');
            $t->dateTime('created_at')->nullable();
            $t->dateTime('expires_at')->nullable();
            $t->dateTime('used_at')->nullable();
        },
        'mod_kycgate_guard' => function ($t) {
            // The guard's decisions, for staff (service tab, client summary).
            $t->increments('id');
            $t->integer('service_id')->unsigned()->index();
            $t->integer('client_id')->unsigned();
            $t->string('decision', 16);
            $t->string('reason', 32);
            $t->integer('admin_id')->unsigned()->default(0);
            $t->dateTime('created_at')->nullable();
        },
        'mod_kycgate_secrets' => function ($t) {
            $t->string('name', 64)->primary();
            $t->text('value');
            $t->dateTime('updated_at')->nullable();
        },
    );
    foreach ($tables as $name => $define) {
        if (!$schema->hasTable($name)) {
            $schema->create($name, $define);
        }
    }
}

/** The addon's tables, in the order kycgate_deactivate drops them. */
function kycgate_table_names()
{
    return array('mod_kycgate_outbox', 'mod_kycgate_services', 'mod_kycgate_overrides', 'mod_kycgate_guard', 'mod_kycgate_secrets');
}

/* ------------------------------------------------------- products and orders */

/** The gate's product id of a WHMCS product id, or null when it needs no KYC. */
function kycgate_product_id($packageId)
{
    $map = kycgate_settings()['product_map'];
    $key = (string) (int) $packageId;
    return isset($map[$key]) ? (string) $map[$key] : null;
}

/** The jurisdiction of a service's server: server, then product, then default. */
function kycgate_region($serverId, $packageId)
{
    $s = kycgate_settings();
    if (isset($s['server_region_map'][(string) (int) $serverId])) {
        return $s['server_region_map'][(string) (int) $serverId];
    }
    if (isset($s['product_region_map'][(string) (int) $packageId])) {
        return $s['product_region_map'][(string) (int) $packageId];
    }
    return $s['default_region'];
}

/** The time zone customers of a region see times in ("Asia/Hong_Kong"). */
function kycgate_region_timezone($region)
{
    $map = kycgate_settings()['timezone_map'];
    return isset($map[$region]) ? $map[$region] : 'UTC';
}

/** The gate's order id of a WHMCS service of an order: "<order id>-<service id>". */
function kycgate_hold_id($orderId, $serviceId)
{
    return ((int) $orderId) . '-' . ((int) $serviceId);
}

/** A WHMCS database date-time (in db_timezone, or PHP's) as RFC 3339 UTC. */
function kycgate_utc($dateTime)
{
    $zone = kycgate_settings()['db_timezone'];
    if ($zone === '') {
        $zone = date_default_timezone_get();
    }
    $dt = new DateTime((string) $dateTime, new DateTimeZone($zone));
    $dt->setTimezone(new DateTimeZone('UTC'));
    return $dt->format('Y-m-d\TH:i:s\Z');
}

/** The gate's language of a WHMCS language name, or null. */
function kycgate_language($whmcsLanguage)
{
    $map = kycgate_settings()['language_map'];
    $l = strtolower(trim((string) $whmcsLanguage));
    return isset($map[$l]) ? $map[$l] : null;
}

/**
 * Whether the gate may provision a service of this order: its invoice is
 * paid, or it has no invoice (a free order).
 */
function kycgate_order_is_paid($orderId)
{
    $order = Capsule::table('tblorders')->where('id', (int) $orderId)->first();
    if (!$order) {
        return false;
    }
    if ((int) $order->invoiceid === 0) {
        return true;
    }
    $invoice = Capsule::table('tblinvoices')->where('id', (int) $order->invoiceid)->first();
    return $invoice && (string) $invoice->status === 'Paid';
}

/* -------------------------------------------------------------------- events */

/** Queues OrderPlaced for each KYC service of an order. */
function kycgate_order_placed($orderId)
{
    $order = Capsule::table('tblorders')->where('id', (int) $orderId)->first();
    if (!$order) {
        return;
    }
    $client = Capsule::table('tblclients')->where('id', (int) $order->userid)->first();
    foreach (Capsule::table('tblhosting')->where('orderid', (int) $orderId)->get() as $service) {
        $productId = kycgate_product_id($service->packageid);
        if ($productId === null) {
            continue;
        }
        $holdId = kycgate_hold_id($orderId, $service->id);
        $detail = array(
            'orderId' => $holdId,
            'serviceId' => (string) (int) $service->id,
            'customerId' => (string) (int) $order->userid,
            'productId' => $productId,
            'orderedAt' => kycgate_utc($order->date),
            'serverRegion' => kycgate_region($service->server, $service->packageid),
            'business' => $client ? trim((string) $client->companyname) !== '' : false,
        );
        $due = (string) $service->nextduedate;
        $cycle = strtolower((string) (isset($service->billingcycle) ? $service->billingcycle : ''));
        if ($due !== '' && $due !== '0000-00-00' && $cycle !== 'one time' && $cycle !== 'free account') {
            $detail['nextDueDate'] = $due;
        }
        if ($client) {
            if (trim((string) $client->email) !== '') {
                $detail['email'] = (string) $client->email;
            }
            $language = kycgate_language($client->language);
            if ($language !== null) {
                $detail['language'] = $language;
            }
        }
        kycgate_remember_service($service->id, $orderId, $order->userid, $productId, $holdId);
        kycgate_emit('OrderPlaced', 'whmcs:OrderPlaced:' . $holdId, $detail);
    }
}

/** Remembers a reported service (for ServiceDelete, and for the pages). */
function kycgate_remember_service($serviceId, $orderId, $clientId, $productId, $holdId)
{
    if (Capsule::table('mod_kycgate_services')->where('service_id', (int) $serviceId)->first()) {
        return;
    }
    Capsule::table('mod_kycgate_services')->insert(array(
        'service_id' => (int) $serviceId,
        'order_id' => (int) $orderId,
        'client_id' => (int) $clientId,
        'product_id' => (string) $productId,
        'hold_id' => (string) $holdId,
        'created_at' => date('Y-m-d H:i:s'),
    ));
}

/** Queues OrderCancelled for each KYC service of a cancelled, fraud or deleted order. */
function kycgate_order_cancelled($orderId)
{
    foreach (Capsule::table('tblhosting')->where('orderid', (int) $orderId)->get() as $service) {
        if (kycgate_product_id($service->packageid) === null) {
            continue;
        }
        $holdId = kycgate_hold_id($orderId, $service->id);
        kycgate_emit('OrderCancelled', 'whmcs:OrderCancelled:' . $holdId, array('orderId' => $holdId));
    }
}

/**
 * Queues ServiceExpired for a terminated or deleted service. A deleted
 * service is no longer in tblhosting: its order comes from the addon's own
 * record of the services it reported.
 */
function kycgate_service_expired($serviceId)
{
    $holdId = null;
    $service = Capsule::table('tblhosting')->where('id', (int) $serviceId)->first();
    if ($service && (int) $service->orderid > 0 && kycgate_product_id($service->packageid) !== null) {
        $holdId = kycgate_hold_id($service->orderid, $service->id);
    } else {
        $known = Capsule::table('mod_kycgate_services')->where('service_id', (int) $serviceId)->first();
        if ($known) {
            $holdId = (string) $known->hold_id;
        }
    }
    if ($holdId === null) {
        return;
    }
    kycgate_emit('ServiceExpired', 'whmcs:ServiceExpired:' . $holdId, array('orderId' => $holdId));
}

/**
 * Queues StaffAction: staff provisioned or unsuspended a held service by
 * hand, or granted a guard override. $action is module_create,
 * module_unsuspend or override.
 */
function kycgate_staff_action($serviceId, $action, $adminId)
{
    $service = Capsule::table('tblhosting')->where('id', (int) $serviceId)->first();
    if (!$service || (int) $service->orderid <= 0) {
        return;
    }
    $holdId = kycgate_hold_id($service->orderid, $service->id);
    $detail = array(
        'orderId' => $holdId,
        'serviceId' => (string) (int) $service->id,
        'customerId' => (string) (int) $service->userid,
        'action' => (string) $action,
        'adminId' => (string) (int) $adminId,
    );
    $eventId = 'whmcs:StaffAction:' . $holdId . ':' . $action . ':' . time() . '-' . bin2hex(random_bytes(4));
    kycgate_emit('StaffAction', $eventId, $detail);
}

/* -------------------------------------------------------------------- outbox */

/** Records an event in the outbox, then tries to deliver it. */
function kycgate_emit($type, $eventId, array $detail)
{
    $payload = json_encode(
        array('type' => $type, 'id' => $eventId, 'detail' => $detail),
        JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
    );
    if ($payload === false) {
        logActivity('KYC gate: ' . $type . ' ' . $eventId . ' could not be encoded');
        return;
    }
    $now = date('Y-m-d H:i:s');
    $row = Capsule::table('mod_kycgate_outbox')->where('event_id', $eventId)->first();
    if (!$row) {
        Capsule::table('mod_kycgate_outbox')->insert(array(
            'event_id' => $eventId,
            'type' => $type,
            'payload' => $payload,
            'attempts' => 0,
            'last_error' => '',
            'next_attempt_at' => $now,
            'created_at' => $now,
        ));
        $row = Capsule::table('mod_kycgate_outbox')->where('event_id', $eventId)->first();
    }
    if ($row && $row->next_attempt_at !== null) {
        kycgate_deliver($row);
    }
}

/** Sends the outbox's due events (after each WHMCS cron run). */
function kycgate_retry()
{
    $rows = Capsule::table('mod_kycgate_outbox')
        ->whereNotNull('next_attempt_at')
        ->where('next_attempt_at', '<=', date('Y-m-d H:i:s'))
        ->orderBy('id')
        ->limit(50)
        ->get();
    foreach ($rows as $row) {
        kycgate_deliver($row);
    }
}

/**
 * Delivers one outbox row: removed when the gate has it (or had no such
 * order), rescheduled when a retry may help, parked (next_attempt_at NULL)
 * when not.
 */
function kycgate_deliver($row)
{
    $result = kycgate_post((string) $row->payload);
    $label = 'KYC gate: ' . $row->type . ' ' . $row->event_id;
    if ($result['outcome'] === 'delivered' || $result['outcome'] === 'dropped') {
        Capsule::table('mod_kycgate_outbox')->where('id', $row->id)->delete();
        logActivity($label . ' ' . $result['outcome'] . ' (' . $result['detail'] . ')');
        return $result['outcome'];
    }
    $attempts = ((int) $row->attempts) + 1;
    $next = null;
    if ($result['outcome'] === 'retry' && $attempts < (int) kycgate_settings()['max_attempts']) {
        // 5, 10, 20, 40 minutes, then hourly.
        $wait = min(3600, 300 * (int) pow(2, min($attempts - 1, 4)));
        $next = date('Y-m-d H:i:s', time() + $wait);
    }
    Capsule::table('mod_kycgate_outbox')->where('id', $row->id)->update(array(
        'attempts' => $attempts,
        'last_error' => substr($result['detail'], 0, 64),
        'next_attempt_at' => $next,
    ));
    $what = $next === null ? 'parked (see Addons > KYC gate)' : 'failed, will be retried';
    logActivity($label . ' ' . $what . ' (' . $result['detail'] . ', attempt ' . $attempts . ')');
    return $next === null ? 'parked' : 'retry';
}

/**
 * POSTs an event. Returns outcome delivered, dropped (404 order_not_found:
 * the gate never held that order), retry (network, 429, 5xx) or parked (any
 * other refusal), with a short detail without personal data.
 */
function kycgate_post($body)
{
    $r = kycgate_request('POST', '/v1/billing/events', $body, (int) kycgate_settings()['timeout']);
    if ($r['status'] === 0) {
        return array('outcome' => 'retry', 'detail' => $r['error']);
    }
    $code = kycgate_problem_code($r['body']);
    $detail = 'HTTP ' . $r['status'] . ($code !== '' ? ' ' . $code : '');
    if ($r['status'] >= 200 && $r['status'] < 300) {
        return array('outcome' => 'delivered', 'detail' => $detail);
    }
    if ($code === 'replayed') {
        // The gate already has this event (an earlier attempt's reply was lost).
        return array('outcome' => 'delivered', 'detail' => $detail);
    }
    if ($r['status'] === 404 && $code === 'order_not_found') {
        return array('outcome' => 'dropped', 'detail' => $detail);
    }
    if ($r['status'] === 429 || $r['status'] >= 500) {
        return array('outcome' => 'retry', 'detail' => $detail);
    }
    return array('outcome' => 'parked', 'detail' => $detail);
}

/**
 * The machine-readable code of an error reply: RFC 9457 problem details
 * ({"type","title","status","detail","code"}), or the gate's earlier
 * {"error":{"code"}}.
 */
function kycgate_problem_code($body)
{
    $d = json_decode((string) $body, true);
    if (!is_array($d)) {
        return '';
    }
    if (isset($d['code']) && is_string($d['code'])) {
        return preg_replace('/[^A-Za-z0-9_]/', '', $d['code']);
    }
    if (isset($d['error']['code']) && is_string($d['error']['code'])) {
        return preg_replace('/[^A-Za-z0-9_]/', '', $d['error']['code']);
    }
    return '';
}

/* ------------------------------------------------------------ gate requests */

/**
 * One signed request to the gate. A POST signs ts + "." + body; a GET signs
 * ts + "." + "GET " + path (the path without host or query). Returns
 * status (0: no reply), body and a short error.
 */
function kycgate_request($method, $path, $body, $timeout)
{
    $s = kycgate_settings();
    $secret = kycgate_secret('webhook_secret');
    if ($s['gate_url'] === '' || $secret === '') {
        return array('status' => 0, 'body' => '', 'error' => 'gate URL or webhook secret not set');
    }
    $timestamp = (string) time();
    $signed = $method === 'GET' ? 'GET ' . $path : (string) $body;
    $headers = array(
        'Accept: application/json, application/problem+json',
        'X-KYC-Timestamp: ' . $timestamp,
        'X-KYC-Signature: v1=' . hash_hmac('sha256', $timestamp . '.' . $signed, $secret),
        'User-Agent: kycgate-whmcs/' . KYCGATE_VERSION,
    );
    $ch = curl_init($s['gate_url'] . $path);
    $opts = array(
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CONNECTTIMEOUT => min(5, max(1, (int) $timeout)),
        CURLOPT_TIMEOUT => max(1, (int) $timeout),
        CURLOPT_SSL_VERIFYPEER => true,
        CURLOPT_SSL_VERIFYHOST => 2,
        CURLOPT_FOLLOWLOCATION => false,
        CURLOPT_PROTOCOLS => CURLPROTO_HTTPS | CURLPROTO_HTTP,
    );
    if ($method === 'POST') {
        $opts[CURLOPT_POST] = true;
        $opts[CURLOPT_POSTFIELDS] = (string) $body;
        $headers[] = 'Content-Type: application/json';
    } else {
        $opts[CURLOPT_HTTPGET] = true;
    }
    $opts[CURLOPT_HTTPHEADER] = $headers;
    curl_setopt_array($ch, $opts);
    $response = curl_exec($ch);
    $status = (int) curl_getinfo($ch, CURLINFO_HTTP_CODE);
    $errno = curl_errno($ch);
    curl_close($ch);
    if ($response === false || $status === 0) {
        return array('status' => 0, 'body' => '', 'error' => 'network error ' . $errno);
    }
    return array('status' => $status, 'body' => (string) $response, 'error' => '');
}

/** A signed GET of JSON. Returns array('ok', 'status', 'data', 'error'). */
function kycgate_get_json($path)
{
    $r = kycgate_request('GET', $path, '', (int) kycgate_settings()['read_timeout']);
    if ($r['status'] !== 200) {
        $why = $r['status'] === 0 ? $r['error'] : 'HTTP ' . $r['status'] . ' ' . kycgate_problem_code($r['body']);
        return array('ok' => false, 'status' => $r['status'], 'data' => null, 'error' => trim($why));
    }
    $data = json_decode($r['body'], true);
    if (!is_array($data)) {
        return array('ok' => false, 'status' => 200, 'data' => null, 'error' => 'unreadable reply');
    }
    return array('ok' => true, 'status' => 200, 'data' => $data, 'error' => '');
}

/**
 * The gate's view of a customer: status, verifiedAt, expiresAt, holds and
 * the service ids it has released. Asked once per request and customer.
 */
function kycgate_customer_kyc($clientId, $fresh = false)
{
    $cache = &kycgate_cache();
    $clientId = (int) $clientId;
    if (!$fresh && isset($cache['kyc'][$clientId])) {
        return $cache['kyc'][$clientId];
    }
    $r = kycgate_get_json('/v1/billing/customers/' . $clientId . '/kyc');
    if ($r['ok']) {
        $d = $r['data'];
        $r['data'] = array(
            'status' => isset($d['status']) && is_string($d['status']) ? $d['status'] : 'unverified',
            'verifiedAt' => isset($d['verifiedAt']) && is_string($d['verifiedAt']) ? $d['verifiedAt'] : '',
            'expiresAt' => isset($d['expiresAt']) && is_string($d['expiresAt']) ? $d['expiresAt'] : '',
            'holds' => isset($d['holds']) && is_array($d['holds']) ? array_values(array_filter($d['holds'], 'is_array')) : array(),
            'released' => isset($d['released']) && is_array($d['released']) ? array_map('strval', $d['released']) : array(),
        );
    }
    $cache['kyc'][$clientId] = $r;
    return $r;
}

/** The review queue's size and oldest wait. */
function kycgate_review_queue()
{
    $r = kycgate_get_json('/v1/billing/review-queue');
    if ($r['ok']) {
        $r['data'] = array(
            'size' => isset($r['data']['size']) ? (int) $r['data']['size'] : 0,
            'oldestWaitSeconds' => isset($r['data']['oldestWaitSeconds']) ? (int) $r['data']['oldestWaitSeconds'] : 0,
        );
    }
    return $r;
}

/* ------------------------------------------------------------------- context */

/** The admin acting in this request, 0 for none (cron, API without one). */
function kycgate_current_admin_id()
{
    if (class_exists('\WHMCS\Authentication\CurrentUser')) {
        $admin = (new \WHMCS\Authentication\CurrentUser())->admin();
        if ($admin) {
            return (int) $admin->id;
        }
    }
    return isset($_SESSION['adminid']) ? (int) $_SESSION['adminid'] : 0;
}

/** The logged-in client account of this request, 0 for none. */
function kycgate_current_client_id()
{
    if (class_exists('\WHMCS\Authentication\CurrentUser')) {
        $client = (new \WHMCS\Authentication\CurrentUser())->client();
        return $client ? (int) $client->id : 0;
    }
    return isset($_SESSION['uid']) ? (int) $_SESSION['uid'] : 0;
}

/** Whether an admin is acting as the client ("Login as Owner"): never signed into the gate as the customer. */
function kycgate_is_masquerading_admin()
{
    if (class_exists('\WHMCS\Authentication\CurrentUser')) {
        return (bool) (new \WHMCS\Authentication\CurrentUser())->isMasqueradingAdmin();
    }
    return isset($_SESSION['adminid']) && (int) $_SESSION['adminid'] > 0;
}

/** Runs a hook's work without ever letting it break WHMCS. */
function kycgate_safely($what, $work, $fallback = null)
{
    try {
        return $work();
    } catch (\Throwable $e) {
        logActivity('KYC gate: ' . $what . ' failed: ' . get_class($e));
        return $fallback;
    }
}

/** HTML-escapes a string. */
function kycgate_h($s)
{
    return htmlspecialchars((string) $s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
}
