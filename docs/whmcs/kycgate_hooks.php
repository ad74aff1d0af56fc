<?php
/**
 * KYC gate: WHMCS hooks that tell the gate about orders (docs/whmcs.md).
 *
 * Copy this file to <whmcs>/includes/hooks/kycgate_hooks.php and fill in the
 * settings below (or set the KYCGATE_WEBHOOK_URL and KYCGATE_WEBHOOK_SECRET
 * environment variables of the PHP process). WHMCS loads every file in
 * includes/hooks on each request; nothing else needs installing.
 *
 * Events sent to POST <gate>/v1/billing/events, signed with the gate's webhook
 * secret (HMAC-SHA256 of "<unix seconds>.<body>", header X-KYC-Signature
 * "v1=<hex>", header X-KYC-Timestamp "<unix seconds>"):
 *
 *   OrderPlaced     when an order is accepted (AcceptOrder), or at checkout
 *                   (AfterShoppingCartCheckout) with 'trigger' => 'checkout';
 *                   one event per KYC-relevant service of the order
 *   OrderCancelled  when an order is cancelled (CancelOrder) or marked as
 *                   fraud (FraudOrder)
 *   ServiceExpired  when a service is terminated (AfterModuleTerminate)
 *
 * The gate keeps one hold per service, so the order id it is given is
 * "<WHMCS order id>-<WHMCS service id>" (for example "5001-9001").
 *
 * Every event is first written to the table mod_kycgate_outbox, then sent;
 * a delivery that fails for a reason a retry can fix (network, timeout, HTTP
 * 429 or 5xx) is retried after each WHMCS cron run (AfterCronJob) with
 * growing pauses. Event ids are deterministic, so a resent event is
 * recognised by the gate. A hook never stops or slows WHMCS beyond the
 * request timeout, and logs (Activity Log) ids and outcomes only.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

use WHMCS\Database\Capsule;

/**
 * Settings. Edit here, or override any of them in an array returned by a
 * file named in the KYCGATE_CONFIG environment variable (keep that file
 * outside the web root).
 */
function kycgate_settings()
{
    static $settings = null;
    if ($settings !== null) {
        return $settings;
    }
    $settings = array(
        // The gate's webhook endpoint.
        'webhook_url' => 'https://kyc-api.example.com/v1/billing/events',
        // The gate's webhook secret (the stack's "WebhookKey" secret in AWS
        // Secrets Manager). Never commit it.
        'secret' => '',
        // 'accept': OrderPlaced when the order is accepted (recommended: after
        // payment and fraud checks). 'checkout': as soon as the order is placed.
        'trigger' => 'accept',
        // WHMCS product id => the gate's product id. Only services of these
        // products are sent. Empty: every service is sent, with the WHMCS
        // product id as the product id (the gate decides which need KYC).
        'products' => array(
            // 12 => 'kyc-vps',
        ),
        // Where each service's server is, for the disclosure rule (SPEC P10):
        // WHMCS server id => region, then WHMCS product id => region, then
        // the default.
        'server_regions' => array(
            // 3 => 'hk',
        ),
        'product_regions' => array(
            // 12 => 'tw',
        ),
        'default_region' => '',
        // WHMCS client language => the gate's language ("en" or "zh-Hant").
        // A language not listed is not sent: the customer then gets notices
        // in both languages.
        'languages' => array(
            'english' => 'en',
            'chinese' => 'zh-Hant',
            'chinese-tw' => 'zh-Hant',
            'chinese-traditional' => 'zh-Hant',
            'traditional-chinese' => 'zh-Hant',
        ),
        // Time zone of the WHMCS database's dates (tblorders.date). Empty: PHP's.
        'timezone' => '',
        // Seconds to wait for the gate.
        'timeout' => 10,
        // Give up on an event after this many failed attempts (then it stays
        // in mod_kycgate_outbox for a person to look at).
        'max_attempts' => 72,
    );
    $url = getenv('KYCGATE_WEBHOOK_URL');
    if (is_string($url) && $url !== '') {
        $settings['webhook_url'] = $url;
    }
    $secret = getenv('KYCGATE_WEBHOOK_SECRET');
    if (is_string($secret) && $secret !== '') {
        $settings['secret'] = $secret;
    }
    $file = getenv('KYCGATE_CONFIG');
    if (is_string($file) && $file !== '' && is_readable($file)) {
        $local = include $file;
        if (is_array($local)) {
            $settings = array_merge($settings, $local);
        }
    }
    return $settings;
}

/** The gate's product id of a WHMCS product, or null if it is not sent. */
function kycgate_product_id($packageId)
{
    $products = kycgate_settings()['products'];
    if (empty($products)) {
        return (string) $packageId;
    }
    if (isset($products[$packageId])) {
        return (string) $products[$packageId];
    }
    return null;
}

/** The region of a service's server. */
function kycgate_region($serverId, $packageId)
{
    $s = kycgate_settings();
    if (isset($s['server_regions'][$serverId])) {
        return (string) $s['server_regions'][$serverId];
    }
    if (isset($s['product_regions'][$packageId])) {
        return (string) $s['product_regions'][$packageId];
    }
    return (string) $s['default_region'];
}

/** The hold id the gate knows a service of an order by. */
function kycgate_hold_id($orderId, $serviceId)
{
    return ((int) $orderId) . '-' . ((int) $serviceId);
}

/** A WHMCS database date-time as ISO-8601 UTC. */
function kycgate_utc($dateTime)
{
    $zone = kycgate_settings()['timezone'];
    if ($zone === '') {
        $zone = date_default_timezone_get();
    }
    $dt = new DateTime($dateTime, new DateTimeZone($zone));
    $dt->setTimezone(new DateTimeZone('UTC'));
    return $dt->format('Y-m-d\TH:i:s\Z');
}

/** OrderPlaced events of an order's KYC-relevant services. */
function kycgate_order_placed($orderId)
{
    $order = Capsule::table('tblorders')->where('id', $orderId)->first();
    if (!$order) {
        return;
    }
    $client = Capsule::table('tblclients')->where('id', $order->userid)->first();
    $services = Capsule::table('tblhosting')->where('orderid', $orderId)->get();
    foreach ($services as $service) {
        $productId = kycgate_product_id($service->packageid);
        if ($productId === null) {
            continue;
        }
        $holdId = kycgate_hold_id($orderId, $service->id);
        $detail = array(
            'orderId' => $holdId,
            'serviceId' => (string) $service->id,
            'customerId' => (string) $order->userid,
            'productId' => $productId,
            'orderedAt' => kycgate_utc($order->date),
            'serverRegion' => kycgate_region($service->server, $service->packageid),
        );
        if (!empty($service->nextduedate) && $service->nextduedate !== '0000-00-00') {
            $detail['nextDueDate'] = (string) $service->nextduedate;
        }
        if ($client) {
            if (!empty($client->email)) {
                $detail['email'] = (string) $client->email;
            }
            $languages = kycgate_settings()['languages'];
            $language = strtolower((string) $client->language);
            if (isset($languages[$language])) {
                $detail['language'] = $languages[$language];
            }
        }
        kycgate_emit('OrderPlaced', $holdId, $detail);
    }
}

/** OrderCancelled events of an order's KYC-relevant services. */
function kycgate_order_cancelled($orderId)
{
    $services = Capsule::table('tblhosting')->where('orderid', $orderId)->get();
    foreach ($services as $service) {
        if (kycgate_product_id($service->packageid) === null) {
            continue;
        }
        $holdId = kycgate_hold_id($orderId, $service->id);
        kycgate_emit('OrderCancelled', $holdId, array('orderId' => $holdId));
    }
}

/** The ServiceExpired event of a terminated service. */
function kycgate_service_expired($serviceId)
{
    $service = Capsule::table('tblhosting')->where('id', $serviceId)->first();
    if (!$service || empty($service->orderid) || kycgate_product_id($service->packageid) === null) {
        return;
    }
    $holdId = kycgate_hold_id($service->orderid, $service->id);
    kycgate_emit('ServiceExpired', $holdId, array('orderId' => $holdId));
}

/** Creates the outbox table on first use. */
function kycgate_outbox_ready()
{
    static $ready = false;
    if ($ready) {
        return;
    }
    $schema = Capsule::schema();
    if (!$schema->hasTable('mod_kycgate_outbox')) {
        $schema->create('mod_kycgate_outbox', function ($table) {
            $table->increments('id');
            $table->string('event_id', 128)->unique();
            $table->string('type', 32);
            $table->mediumText('payload');
            $table->integer('attempts')->default(0);
            $table->string('last_error', 64)->default('');
            $table->dateTime('next_attempt_at')->nullable();
            $table->dateTime('created_at')->nullable();
        });
    }
    $ready = true;
}

/** Records an event in the outbox, then tries to deliver it. */
function kycgate_emit($type, $holdId, array $detail)
{
    $eventId = 'whmcs:' . $type . ':' . $holdId;
    $payload = json_encode(
        array('type' => $type, 'id' => $eventId, 'detail' => $detail),
        JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
    );
    if ($payload === false) {
        logActivity('KYC gate: ' . $type . ' ' . $holdId . ' could not be encoded');
        return;
    }
    kycgate_outbox_ready();
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
    if ($row) {
        kycgate_deliver($row);
    }
}

/** Sends the outbox's due events (after each WHMCS cron run). */
function kycgate_retry()
{
    kycgate_outbox_ready();
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
 * Delivers one outbox row: removed when the gate has it, rescheduled when a
 * retry may help, parked (next_attempt_at = NULL) when not.
 */
function kycgate_deliver($row)
{
    $result = kycgate_post($row->payload);
    $label = 'KYC gate: ' . $row->type . ' ' . $row->event_id;
    if ($result['outcome'] === 'delivered' || $result['outcome'] === 'ignored') {
        Capsule::table('mod_kycgate_outbox')->where('id', $row->id)->delete();
        logActivity($label . ' ' . $result['outcome'] . ' (' . $result['detail'] . ')');
        return;
    }
    $attempts = ((int) $row->attempts) + 1;
    $next = null;
    if ($result['outcome'] === 'retry' && $attempts < (int) kycgate_settings()['max_attempts']) {
        // 5, 10, 20, 40 minutes ... at most an hour apart.
        $wait = min(3600, 300 * (int) pow(2, min($attempts - 1, 4)));
        $next = date('Y-m-d H:i:s', time() + $wait);
    }
    Capsule::table('mod_kycgate_outbox')->where('id', $row->id)->update(array(
        'attempts' => $attempts,
        'last_error' => substr($result['detail'], 0, 64),
        'next_attempt_at' => $next,
    ));
    $what = $next === null ? 'failed, not retried; see mod_kycgate_outbox' : 'failed, will be retried';
    logActivity($label . ' ' . $what . ' (' . $result['detail'] . ', attempt ' . $attempts . ')');
}

/**
 * POSTs a signed body. Returns outcome 'delivered', 'ignored' (the gate has
 * no such order: nothing to do), 'retry' or 'rejected', and a short detail
 * without personal data.
 */
function kycgate_post($body)
{
    $s = kycgate_settings();
    if ($s['secret'] === '' || $s['webhook_url'] === '') {
        return array('outcome' => 'retry', 'detail' => 'webhook URL or secret not set');
    }
    $timestamp = (string) time();
    $signature = 'v1=' . hash_hmac('sha256', $timestamp . '.' . $body, $s['secret']);
    $ch = curl_init($s['webhook_url']);
    curl_setopt_array($ch, array(
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => $body,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CONNECTTIMEOUT => 5,
        CURLOPT_TIMEOUT => (int) $s['timeout'],
        CURLOPT_SSL_VERIFYPEER => true,
        CURLOPT_SSL_VERIFYHOST => 2,
        CURLOPT_HTTPHEADER => array(
            'Content-Type: application/json',
            'X-KYC-Timestamp: ' . $timestamp,
            'X-KYC-Signature: ' . $signature,
            'User-Agent: kycgate-whmcs-hooks',
        ),
    ));
    $response = curl_exec($ch);
    $status = (int) curl_getinfo($ch, CURLINFO_HTTP_CODE);
    $curlError = curl_errno($ch);
    curl_close($ch);
    if ($response === false || $status === 0) {
        return array('outcome' => 'retry', 'detail' => 'network error ' . $curlError);
    }
    $code = '';
    $decoded = json_decode((string) $response, true);
    if (is_array($decoded) && isset($decoded['error']['code'])) {
        $code = (string) $decoded['error']['code'];
    }
    $detail = 'HTTP ' . $status . ($code !== '' ? ' ' . $code : '');
    if ($status >= 200 && $status < 300) {
        return array('outcome' => 'delivered', 'detail' => $detail);
    }
    if ($status === 409 && $code === 'replayed') {
        // The gate already has this event (an earlier attempt's reply was lost).
        return array('outcome' => 'delivered', 'detail' => $detail);
    }
    if ($status === 404 && $code === 'order_not_found') {
        return array('outcome' => 'ignored', 'detail' => $detail);
    }
    if ($status === 429 || $status >= 500) {
        return array('outcome' => 'retry', 'detail' => $detail);
    }
    return array('outcome' => 'rejected', 'detail' => $detail);
}

/** Runs a hook's work without ever letting it break WHMCS. */
function kycgate_safely($what, $work)
{
    try {
        $work();
    } catch (\Throwable $e) {
        logActivity('KYC gate: ' . $what . ' hook failed: ' . get_class($e));
    }
}

add_hook('AcceptOrder', 1, function ($vars) {
    if (kycgate_settings()['trigger'] === 'accept') {
        kycgate_safely('AcceptOrder', function () use ($vars) {
            kycgate_order_placed((int) $vars['orderid']);
        });
    }
});

add_hook('AfterShoppingCartCheckout', 1, function ($vars) {
    if (kycgate_settings()['trigger'] === 'checkout') {
        kycgate_safely('AfterShoppingCartCheckout', function () use ($vars) {
            kycgate_order_placed((int) $vars['OrderID']);
        });
    }
});

add_hook('CancelOrder', 1, function ($vars) {
    kycgate_safely('CancelOrder', function () use ($vars) {
        kycgate_order_cancelled((int) $vars['orderid']);
    });
});

add_hook('FraudOrder', 1, function ($vars) {
    kycgate_safely('FraudOrder', function () use ($vars) {
        kycgate_order_cancelled((int) $vars['orderid']);
    });
});

add_hook('AfterModuleTerminate', 1, function ($vars) {
    kycgate_safely('AfterModuleTerminate', function () use ($vars) {
        if (isset($vars['params']['serviceid'])) {
            kycgate_service_expired((int) $vars['params']['serviceid']);
        }
    });
});

add_hook('AfterCronJob', 1, function ($vars) {
    kycgate_safely('AfterCronJob', function () {
        kycgate_retry();
    });
});
