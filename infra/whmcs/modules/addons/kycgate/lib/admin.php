<?php
/**
 * KYC gate addon: its admin page (Addons > KYC gate): the webhook secret,
 * the sign-in keys and their rotation, the outbox (resend parked events),
 * guard overrides, and the guard's recent decisions.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

use WHMCS\Database\Capsule;

/** Handles a POSTed action; returns array(kind, message) to show. */
function kycgate_admin_action($action, array $post, $adminId)
{
    switch ($action) {
        case 'secret':
            $secret = trim((string) (isset($post['webhook_secret']) ? $post['webhook_secret'] : ''));
            if (strlen($secret) < 16) {
                return array('danger', 'The webhook secret must have at least 16 characters.');
            }
            if (!kycgate_set_secret('webhook_secret', $secret)) {
                return array('danger', 'WHMCS could not encrypt the secret.');
            }
            logActivity('KYC gate: admin #' . (int) $adminId . ' changed the webhook secret');
            return array('success', 'Webhook secret saved.');
        case 'generate_key':
        case 'import_key':
            $alg = (isset($post['alg']) && $post['alg'] === 'RS256') ? 'RS256' : 'EdDSA';
            try {
                $key = $action === 'generate_key' ? kycgate_generate_signin_key($alg)
                    : kycgate_import_signin_key($alg, isset($post['private_key']) ? $post['private_key'] : '');
            } catch (\Exception $e) {
                return array('danger', 'Key not accepted: ' . $e->getMessage());
            }
            $slot = kycgate_signin_key('active') === null ? 'active' : 'pending';
            kycgate_store_signin_key($slot, $key);
            logActivity('KYC gate: admin #' . (int) $adminId . ' added sign-in key ' . $key['kid'] . ' (' . $key['alg'] . ') as ' . $slot);
            return array('success', 'Sign-in key ' . $key['kid'] . ' added as ' . $slot
                . ($slot === 'pending' ? '. Put its public key into the gate\'s signinKeys, deploy, then activate it here.' : '.'));
        case 'activate_key':
            $pending = kycgate_signin_key('pending');
            if ($pending === null) {
                return array('danger', 'No pending key.');
            }
            kycgate_store_signin_key('retired', kycgate_signin_key('active'));
            kycgate_store_signin_key('active', $pending);
            kycgate_store_signin_key('pending', null);
            logActivity('KYC gate: admin #' . (int) $adminId . ' activated sign-in key ' . $pending['kid']);
            return array('success', 'Key ' . $pending['kid'] . ' now signs. Remove the retired key from the gate\'s signinKeys once no token of it can be in flight (2 minutes).');
        case 'discard_key':
            $slot = (isset($post['slot']) && $post['slot'] === 'retired') ? 'retired' : 'pending';
            kycgate_store_signin_key($slot, null);
            logActivity('KYC gate: admin #' . (int) $adminId . ' discarded the ' . $slot . ' sign-in key');
            return array('success', 'The ' . $slot . ' key was discarded.');
        case 'resend':
            $row = Capsule::table('mod_kycgate_outbox')->where('id', (int) (isset($post['id']) ? $post['id'] : 0))->first();
            if (!$row) {
                return array('danger', 'No such event.');
            }
            Capsule::table('mod_kycgate_outbox')->where('id', $row->id)->update(array('next_attempt_at' => date('Y-m-d H:i:s')));
            $row = Capsule::table('mod_kycgate_outbox')->where('id', $row->id)->first();
            $outcome = kycgate_deliver($row);
            return array($outcome === 'delivered' || $outcome === 'dropped' ? 'success' : 'warning', 'Event ' . $row->event_id . ': ' . $outcome . '.');
        case 'override':
            $err = kycgate_grant_override((int) (isset($post['serviceid']) ? $post['serviceid'] : 0), $adminId, isset($post['reason']) ? $post['reason'] : '');
            if ($err !== '') {
                return array('danger', $err);
            }
            return array('success', 'Override granted for service #' . (int) $post['serviceid']
                . ': run Module Create on the service now. The KYC gate has been told.');
    }
    return array('danger', 'Unknown action.');
}

/** Prints the admin page. */
function kycgate_admin_page(array $vars)
{
    $link = isset($vars['modulelink']) ? $vars['modulelink'] : 'addonmodules.php?module=kycgate';
    $adminId = kycgate_current_admin_id();
    $notice = null;
    if (isset($_SERVER['REQUEST_METHOD']) && $_SERVER['REQUEST_METHOD'] === 'POST' && isset($_POST['kycgate_action'])) {
        if (function_exists('check_token') && !check_token('WHMCS.admin.default')) {
            $notice = array('danger', 'The form expired. Please try again.');
        } else {
            $notice = kycgate_admin_action((string) $_POST['kycgate_action'], $_POST, $adminId);
        }
    }
    $token = function_exists('generate_token') ? (string) generate_token('plain') : '';
    $form = function ($action, $inner, $button, $class = 'btn-default') use ($link, $token) {
        return '<form method="post" action="' . kycgate_h($link) . '" style="display:inline-block;margin:2px 0">'
            . '<input type="hidden" name="token" value="' . kycgate_h($token) . '">'
            . '<input type="hidden" name="kycgate_action" value="' . kycgate_h($action) . '">' . $inner
            . ' <button type="submit" class="btn btn-sm ' . $class . '">' . kycgate_h($button) . '</button></form>';
    };
    $s = kycgate_settings(true);
    $out = '';
    if ($notice !== null) {
        $out .= '<div class="alert alert-' . kycgate_h($notice[0]) . '">' . kycgate_h($notice[1]) . '</div>';
    }

    // Configuration check.
    $problems = array();
    if ($s['gate_url'] === '') {
        $problems[] = 'Gate URL is not set (Setup > Addon Modules > KYC gate > Configure).';
    }
    if (kycgate_secret('webhook_secret') === '') {
        $problems[] = 'The webhook secret is not set (below).';
    }
    if (count($s['product_map']) === 0) {
        $problems[] = 'No KYC products are listed: nothing is held or guarded.';
    }
    if (kycgate_signin_key('active') === null) {
        $problems[] = 'No sign-in key: clients cannot be signed into the gate.';
    }
    $out .= '<h2>KYC gate</h2><p>Trigger: <strong>' . kycgate_h($s['trigger']) . '</strong> · KYC products: '
        . kycgate_h(count($s['product_map']) > 0 ? implode(', ', array_keys($s['product_map'])) : 'none') . '</p>';
    foreach ($problems as $p) {
        $out .= '<div class="alert alert-warning">' . kycgate_h($p) . '</div>';
    }

    // Override form (also reached from a service's tab).
    $sid = isset($_GET['serviceid']) ? (int) $_GET['serviceid'] : 0;
    $out .= '<h3>Provisioning override</h3><p>Lets the next Module Create of one KYC service run without the customer being '
        . 'verified (valid ' . (int) $s['override_minutes'] . ' minutes, one create). It is logged and reported to the gate, which '
        . 'keeps it in the customer\'s audit trail.</p>'
        . $form('override', 'Service ID <input type="number" name="serviceid" min="1" value="' . ($sid > 0 ? $sid : '') . '" required> '
            . 'Reason <input type="text" name="reason" size="40" maxlength="255" required>', 'Grant override', 'btn-warning');

    // Secret.
    $out .= '<h3>Webhook secret</h3><p>The gate\'s WebhookKey secret; it signs every event and read. '
        . (kycgate_secret('webhook_secret') !== '' ? 'It is set (stored encrypted by WHMCS).' : '<strong>Not set.</strong>') . '</p>'
        . $form('secret', '<input type="password" name="webhook_secret" autocomplete="off" size="40" required>', 'Save secret');

    // Sign-in keys.
    $active = kycgate_signin_key('active');
    $pending = kycgate_signin_key('pending');
    $retired = kycgate_signin_key('retired');
    $out .= '<h3>Sign-in keys</h3><p>The private keys stay here (encrypted by WHMCS). Give the gate operator this value for the CDK '
        . 'context <code>signinKeys</code> (issuer <code>' . kycgate_h($s['signin_issuer']) . '</code>, audience <code>'
        . kycgate_h($s['signin_audience']) . '</code>):</p><pre class="kycgate-keys">'
        . kycgate_h(json_encode(kycgate_key_config(array($active, $pending)), JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES)) . '</pre>';
    foreach (array('active' => $active, 'pending' => $pending, 'retired' => $retired) as $slot => $key) {
        if ($key !== null) {
            $out .= '<p>' . kycgate_h(ucfirst($slot)) . ': <code>' . kycgate_h($key['kid']) . '</code> (' . kycgate_h($key['alg']) . ')';
            if ($slot === 'pending') {
                $out .= ' ' . $form('activate_key', '', 'Activate (the gate lists it already)', 'btn-primary')
                    . ' ' . $form('discard_key', '<input type="hidden" name="slot" value="pending">', 'Discard');
            } elseif ($slot === 'retired') {
                $out .= ' ' . $form('discard_key', '<input type="hidden" name="slot" value="retired">', 'Forget (removed from the gate)');
            }
            $out .= '</p>';
        }
    }
    $algs = '<select name="alg"><option value="EdDSA">Ed25519 (EdDSA)</option><option value="RS256">RSA (RS256)</option></select>';
    $out .= $form('generate_key', $algs, $active === null ? 'Generate key' : 'Generate next key')
        . '<br>' . $form('import_key', $algs . ' <textarea name="private_key" rows="3" cols="50" placeholder="PEM private key, or base64 Ed25519 seed"></textarea>', 'Import key');

    // Outbox.
    $rows = Capsule::table('mod_kycgate_outbox')->orderBy('id')->limit(100)->get();
    $out .= '<h3>Events waiting for the gate</h3>';
    if (count($rows) === 0) {
        $out .= '<p>None: every event was delivered.</p>';
    } else {
        $out .= '<table class="table table-condensed"><tr><th>Event</th><th>Attempts</th><th>Last error</th><th>Next attempt</th><th></th></tr>';
        foreach ($rows as $r) {
            $out .= '<tr><td>' . kycgate_h($r->event_id) . '</td><td>' . (int) $r->attempts . '</td><td>' . kycgate_h($r->last_error)
                . '</td><td>' . ($r->next_attempt_at === null ? '<strong>parked</strong>' : kycgate_h($r->next_attempt_at)) . '</td><td>'
                . $form('resend', '<input type="hidden" name="id" value="' . (int) $r->id . '">', 'Send now') . '</td></tr>';
        }
        $out .= '</table>';
    }

    // Guard decisions.
    $decisions = Capsule::table('mod_kycgate_guard')->orderBy('id', 'desc')->limit(20)->get();
    if (count($decisions) > 0) {
        $out .= '<h3>Recent guard decisions</h3><table class="table table-condensed"><tr><th>When</th><th>Service</th><th>Client</th><th>Decision</th><th>Why</th></tr>';
        foreach ($decisions as $d) {
            $out .= '<tr><td>' . kycgate_h($d->created_at) . '</td><td>#' . (int) $d->service_id . '</td><td>#' . (int) $d->client_id
                . '</td><td>' . kycgate_h($d->decision) . '</td><td>' . kycgate_h($d->reason) . '</td></tr>';
        }
        $out .= '</table>';
    }
    echo $out;
}
