<?php
/**
 * KYC gate: WHMCS addon module.
 *
 * Holds orders of KYC products until the customer proves who they are: tells
 * the gate about orders (OrderPlaced at payment by default), cancellations,
 * deletions and terminations; guards provisioning (PreModuleCreate) so that
 * only the gate, a verified customer or a staff override can create a KYC
 * product's service; shows clients what is needed and by when, and signs them
 * into the gate's verification page; shows staff the KYC status on the client
 * summary, the dashboard and beside tickets.
 *
 * Install into <whmcs>/modules/addons/kycgate/ and activate it in
 * System Settings > Addon Modules. docs/whmcs.md in the repository is the
 * manual and the contract with the gate.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/lib/core.php';
require_once __DIR__ . '/lib/guard.php';
require_once __DIR__ . '/lib/signin.php';
require_once __DIR__ . '/lib/ui.php';
require_once __DIR__ . '/lib/admin.php';

use WHMCS\Database\Capsule;

function kycgate_config()
{
    $d = kycgate_defaults();
    return array(
        'name' => 'KYC gate',
        'description' => 'Holds orders of KYC products until the customer is verified, guards their provisioning, and signs clients into the KYC gate.',
        'version' => KYCGATE_VERSION,
        'author' => 'KYC gate',
        'language' => 'english',
        'fields' => array(
            'gate_url' => array('FriendlyName' => 'Gate URL', 'Type' => 'text', 'Size' => '60', 'Default' => $d['gate_url'],
                'Description' => 'The gate\'s API base, e.g. https://kyc-api.example.com (events go to /v1/billing/events). The webhook secret is set on the addon\'s page (Addons > KYC gate), stored encrypted.'),
            'trigger' => array('FriendlyName' => 'Hold starts at', 'Type' => 'dropdown', 'Options' => 'paid,accept,checkout', 'Default' => $d['trigger'],
                'Description' => 'paid: when the order\'s first invoice is paid (OrderPaid; free orders at checkout). accept: when staff accept the order. checkout: as soon as the order is placed (the gate never provisions it before it is paid).'),
            'products' => array('FriendlyName' => 'KYC products', 'Type' => 'textarea', 'Rows' => '4', 'Cols' => '40', 'Default' => $d['products'],
                'Description' => 'One per line: WHMCS product id = the gate\'s product id, e.g. 12=kyc-vps. Only these are held and guarded; list exactly the gate\'s kycProducts.'),
            'server_regions' => array('FriendlyName' => 'Server regions', 'Type' => 'textarea', 'Rows' => '3', 'Cols' => '40', 'Default' => $d['server_regions'],
                'Description' => 'WHMCS server id = region (hk, tw, ...), one per line.'),
            'product_regions' => array('FriendlyName' => 'Product regions', 'Type' => 'textarea', 'Rows' => '3', 'Cols' => '40', 'Default' => $d['product_regions'],
                'Description' => 'WHMCS product id = region, for services without a server.'),
            'default_region' => array('FriendlyName' => 'Default region', 'Type' => 'text', 'Size' => '8', 'Default' => $d['default_region'],
                'Description' => 'Region of services matched by neither list.'),
            'region_timezones' => array('FriendlyName' => 'Region time zones', 'Type' => 'textarea', 'Rows' => '3', 'Cols' => '40', 'Default' => $d['region_timezones'],
                'Description' => 'region = time zone, for times shown to clients when the gate gives none.'),
            'languages' => array('FriendlyName' => 'Languages', 'Type' => 'textarea', 'Rows' => '5', 'Cols' => '40', 'Default' => $d['languages'],
                'Description' => 'WHMCS language = en or zh-Hant.'),
            'db_timezone' => array('FriendlyName' => 'Database time zone', 'Type' => 'text', 'Size' => '24', 'Default' => $d['db_timezone'],
                'Description' => 'Time zone of WHMCS\'s order dates, e.g. Asia/Hong_Kong. Empty: PHP\'s.'),
            'signin_url' => array('FriendlyName' => 'Sign-in URL', 'Type' => 'text', 'Size' => '60', 'Default' => $d['signin_url'],
                'Description' => 'Where clients are signed in. Empty: <gate URL>/verify/signin.'),
            'signin_audience' => array('FriendlyName' => 'Sign-in audience', 'Type' => 'text', 'Size' => '60', 'Default' => $d['signin_audience'],
                'Description' => 'The gate\'s sign-in audience (aud). Empty: the sign-in URL without /signin.'),
            'signin_issuer' => array('FriendlyName' => 'Sign-in issuer', 'Type' => 'text', 'Size' => '20', 'Default' => $d['signin_issuer'],
                'Description' => 'iss of the sign-in tokens; the gate is configured with the same value.'),
            'console_url' => array('FriendlyName' => 'Reviewer console URL', 'Type' => 'text', 'Size' => '60', 'Default' => $d['console_url'],
                'Description' => 'Empty: <gate URL>/console.'),
            'suspend_reason' => array('FriendlyName' => 'KYC suspension reason', 'Type' => 'text', 'Size' => '60', 'Default' => $d['suspend_reason'],
                'Description' => 'The reason the gate suspends with (recognises staff unsuspending a KYC suspension).'),
            'checkout_notice' => array('FriendlyName' => 'Checkout notice', 'Type' => 'yesno', 'Default' => $d['checkout_notice'],
                'Description' => 'Tell unverified clients at checkout what a KYC product needs.'),
            'override_minutes' => array('FriendlyName' => 'Override lifetime', 'Type' => 'text', 'Size' => '5', 'Default' => $d['override_minutes'],
                'Description' => 'Minutes a provisioning override stays usable (one create).'),
            'timeout' => array('FriendlyName' => 'Event timeout', 'Type' => 'text', 'Size' => '5', 'Default' => $d['timeout'], 'Description' => 'Seconds per event delivery.'),
            'read_timeout' => array('FriendlyName' => 'Read timeout', 'Type' => 'text', 'Size' => '5', 'Default' => $d['read_timeout'],
                'Description' => 'Seconds pages and the guard wait for the gate.'),
            'max_attempts' => array('FriendlyName' => 'Delivery attempts', 'Type' => 'text', 'Size' => '5', 'Default' => $d['max_attempts'],
                'Description' => 'Attempts before an event is parked.'),
            'delete_on_deactivate' => array('FriendlyName' => 'Delete data on deactivation', 'Type' => 'yesno', 'Default' => '',
                'Description' => 'Drop the addon\'s tables (outbox, keys, overrides) when deactivated. Off: they are kept.'),
        ),
    );
}

function kycgate_activate()
{
    try {
        kycgate_schema();
        $msg = 'KYC gate activated. Set the gate URL and KYC products (Configure), then the webhook secret in Addons > KYC gate.';
        if (kycgate_signin_key('active') === null) {
            $key = kycgate_generate_signin_key('EdDSA');
            kycgate_store_signin_key('active', $key);
            $msg .= ' A sign-in key (' . $key['kid'] . ') was generated: give its public key to the gate operator (Addons > KYC gate).';
        }
        return array('status' => 'success', 'description' => $msg);
    } catch (\Throwable $e) {
        return array('status' => 'error', 'description' => 'KYC gate could not create its tables: ' . get_class($e));
    }
}

function kycgate_deactivate()
{
    $drop = (string) Capsule::table('tbladdonmodules')->where('module', KYCGATE_MODULE)
        ->where('setting', 'delete_on_deactivate')->value('value');
    if ($drop === '') {
        return array('status' => 'info', 'description' => 'KYC gate deactivated: no guard, no events. Its tables (undelivered events, sign-in keys, overrides) were kept.');
    }
    try {
        foreach (kycgate_table_names() as $t) {
            Capsule::schema()->dropIfExists($t);
        }
        return array('status' => 'success', 'description' => 'KYC gate deactivated and its tables dropped.');
    } catch (\Throwable $e) {
        return array('status' => 'error', 'description' => 'KYC gate could not drop its tables: ' . get_class($e));
    }
}

/** Brings the tables up to date after the files were replaced by a newer version. */
function kycgate_upgrade($vars)
{
    kycgate_schema();
    $from = isset($vars['version']) ? (string) $vars['version'] : '0';
    if (version_compare($from, '2.0.0', '<') && Capsule::schema()->hasTable('mod_kycgate_outbox')) {
        logActivity('KYC gate: upgraded from ' . preg_replace('/[^0-9.]/', '', $from) . ' to ' . KYCGATE_VERSION);
    }
}

function kycgate_output($vars)
{
    kycgate_admin_page($vars);
}

function kycgate_clientarea($vars)
{
    $clientId = kycgate_current_client_id();
    $lang = kycgate_page_language($clientId);
    $m = kycgate_messages($lang);
    $page = array(
        'pagetitle' => $m['title'],
        'breadcrumb' => array('index.php?m=kycgate' => $m['title']),
        'templatefile' => 'templates/clientarea',
        'requirelogin' => true,
        'forcessl' => true,
        'vars' => array('kycgate_html' => ''),
    );
    if ($clientId <= 0) {
        return $page;
    }
    $action = isset($_GET['action']) ? (string) $_GET['action'] : '';
    if ($action === 'signin') {
        $page['vars']['kycgate_html'] = kycgate_signin_response($clientId, $lang);
        return $page;
    }
    $page['vars']['kycgate_html'] = kycgate_safely('client page', function () use ($clientId, $lang) {
        return kycgate_render_client_page($clientId, $lang);
    }, '<div class="alert alert-warning">' . kycgate_h($m['unavailable']) . '</div>');
    return $page;
}

/** POST index.php?m=kycgate&action=signin: a fresh token in a self-submitting form. */
function kycgate_signin_response($clientId, $lang)
{
    $m = kycgate_messages($lang);
    $method = isset($_SERVER['REQUEST_METHOD']) ? $_SERVER['REQUEST_METHOD'] : 'GET';
    if ($method !== 'POST' || (function_exists('check_token') && !check_token('WHMCS.default'))) {
        return '<div class="alert alert-warning">' . kycgate_h($m['signin.expired']) . '</div>'
            . '<p><a href="index.php?m=kycgate">' . kycgate_h($m['title']) . '</a></p>';
    }
    if (kycgate_is_masquerading_admin()) {
        // Staff logged in as the client must not upload documents in the
        // customer's name: the gate's session is the customer's own.
        logActivity('KYC gate: sign-in into the gate refused for an admin logged in as client #' . (int) $clientId, $clientId);
        return '<div class="alert alert-warning">' . kycgate_h($m['signin.staff']) . '</div>';
    }
    $token = kycgate_safely('sign-in', function () use ($clientId, $lang) {
        return kycgate_mint_signin_token($clientId, $lang);
    }, null);
    if ($token === null) {
        return '<div class="alert alert-danger">' . kycgate_h($m['signin.error']) . '</div>';
    }
    if (!headers_sent()) {
        header('Cache-Control: no-store');
        header('Referrer-Policy: no-referrer');
    }
    return kycgate_render_signin_page($token, $lang);
}
