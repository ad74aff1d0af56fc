<?php
/**
 * KYC gate addon: the provisioning guard (PreModuleCreate), staff overrides,
 * and the audit of what staff do by hand to a held service.
 *
 * Release mechanism: the gate is asked. A create of a KYC product's service
 * goes through only if, at that moment, the gate lists the service in its
 * customer's "released" (it has told billing to provision it; the order must
 * be paid), or the customer is verified, or staff granted an override for
 * that service (one use, short-lived). Anything else, including a gate that
 * cannot be asked, aborts the create (abortcmd) and tells staff why.
 * docs/whmcs.md "The provisioning guard" gives the reasons for this choice.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

use WHMCS\Database\Capsule;

/** What the guard decided for each service in this request (for AfterModuleCreate). */
function &kycgate_request_state()
{
    $cache = &kycgate_cache();
    return $cache['state'];
}

/** Records a guard decision (shown on the service tab and the client summary). */
function kycgate_guard_record($serviceId, $clientId, $decision, $reason, $adminId)
{
    Capsule::table('mod_kycgate_guard')->insert(array(
        'service_id' => (int) $serviceId,
        'client_id' => (int) $clientId,
        'decision' => $decision,
        'reason' => $reason,
        'admin_id' => (int) $adminId,
        'created_at' => date('Y-m-d H:i:s'),
    ));
}

/** What staff are told when a create is aborted, by reason. */
function kycgate_guard_advice($reason)
{
    $advice = array(
        'not_verified' => 'the customer has not passed KYC and the gate has not released the service. The gate provisions it itself when the customer is verified or at the 3-day deadline; to provision it now anyway, grant an override in Addons > KYC gate.',
        'unpaid' => 'the gate released the service but its order is not paid. It is created once the invoice is paid.',
        'gate_unreachable' => 'the KYC gate could not be asked, so nothing was created (the guard fails closed). Try again when the gate answers, or grant an override in Addons > KYC gate to create it without asking.',
        'no_order' => 'the service belongs to no order the gate could have held. Grant an override in Addons > KYC gate to create it.',
    );
    return isset($advice[$reason]) ? $advice[$reason] : 'see Addons > KYC gate.';
}

/**
 * The PreModuleCreate guard. Returns array('abortcmd' => true) to stop the
 * create, or an empty array to let it run.
 */
function kycgate_guard_create($params)
{
    $serviceId = isset($params['serviceid']) ? (int) $params['serviceid'] : 0;
    $pid = isset($params['pid']) ? (int) $params['pid'] : 0;
    $clientId = isset($params['userid']) ? (int) $params['userid'] : 0;
    if ($serviceId <= 0 || kycgate_product_id($pid) === null) {
        return array(); // not a KYC product: none of the guard's business
    }
    $state = &kycgate_request_state();
    $adminId = kycgate_current_admin_id();
    $now = date('Y-m-d H:i:s');

    $override = Capsule::table('mod_kycgate_overrides')
        ->where('service_id', $serviceId)
        ->whereNull('used_at')
        ->where('expires_at', '>=', $now)
        ->orderBy('id')
        ->first();
    if ($override) {
        Capsule::table('mod_kycgate_overrides')->where('id', $override->id)->update(array('used_at' => $now));
        kycgate_guard_record($serviceId, $clientId, 'allowed', 'override', $adminId);
        $state['create'][$serviceId] = 'override';
        logActivity('KYC gate: module create of service #' . $serviceId . ' allowed by the override of admin #'
            . (int) $override->admin_id, $clientId);
        return array();
    }

    $service = Capsule::table('tblhosting')->where('id', $serviceId)->first();
    $orderId = $service ? (int) $service->orderid : 0;
    $reason = null;
    $kyc = kycgate_customer_kyc($clientId, true);
    if (!$kyc['ok']) {
        $reason = 'gate_unreachable';
    } elseif (in_array((string) $serviceId, $kyc['data']['released'], true)) {
        if ($orderId > 0 && !kycgate_order_is_paid($orderId)) {
            $reason = 'unpaid';
        } else {
            $state['create'][$serviceId] = 'released';
            kycgate_guard_record($serviceId, $clientId, 'allowed', 'released', $adminId);
            return array();
        }
    } elseif ($kyc['data']['status'] === 'verified') {
        $state['create'][$serviceId] = 'verified';
        kycgate_guard_record($serviceId, $clientId, 'allowed', 'verified', $adminId);
        return array();
    } elseif ($orderId <= 0) {
        $reason = 'no_order';
    } else {
        $reason = 'not_verified';
    }
    kycgate_guard_record($serviceId, $clientId, 'blocked', $reason, $adminId);
    $why = $reason === 'gate_unreachable' ? ' (' . $kyc['error'] . ')' : '';
    logActivity('KYC gate: module create of service #' . $serviceId . ' blocked' . $why . ': '
        . kycgate_guard_advice($reason), $clientId);
    return array('abortcmd' => true);
}

/**
 * AfterModuleCreate: a KYC service was created. Unless the gate released it
 * (its own create), the gate is told (StaffAction module_create).
 */
function kycgate_after_create($params)
{
    $serviceId = isset($params['serviceid']) ? (int) $params['serviceid'] : 0;
    $pid = isset($params['pid']) ? (int) $params['pid'] : 0;
    if ($serviceId <= 0 || kycgate_product_id($pid) === null) {
        return;
    }
    $state = &kycgate_request_state();
    $how = isset($state['create'][$serviceId]) ? $state['create'][$serviceId] : 'unguarded';
    if ($how === 'released') {
        return;
    }
    kycgate_staff_action($serviceId, 'module_create', kycgate_current_admin_id());
}

/** PreModuleUnsuspend: remembers why the service was suspended. */
function kycgate_before_unsuspend($params)
{
    $serviceId = isset($params['serviceid']) ? (int) $params['serviceid'] : 0;
    $service = Capsule::table('tblhosting')->where('id', $serviceId)->first();
    if ($service) {
        $state = &kycgate_request_state();
        $state['unsuspend'][$serviceId] = (string) $service->suspendreason;
    }
}

/**
 * AfterModuleUnsuspend: a service suspended for KYC was unsuspended. The
 * gate unsuspends only verified customers' services; otherwise staff did it
 * by hand, and the gate is told (StaffAction module_unsuspend).
 */
function kycgate_after_unsuspend($params)
{
    $serviceId = isset($params['serviceid']) ? (int) $params['serviceid'] : 0;
    $pid = isset($params['pid']) ? (int) $params['pid'] : 0;
    $clientId = isset($params['userid']) ? (int) $params['userid'] : 0;
    if ($serviceId <= 0 || kycgate_product_id($pid) === null) {
        return;
    }
    $state = &kycgate_request_state();
    $reason = isset($state['unsuspend'][$serviceId]) ? $state['unsuspend'][$serviceId] : '';
    if ($reason !== kycgate_settings()['suspend_reason']) {
        return; // not a KYC suspension (unpaid invoice, abuse): not the gate's business
    }
    $kyc = kycgate_customer_kyc($clientId, true);
    if ($kyc['ok'] && $kyc['data']['status'] === 'verified') {
        return; // the gate's own unsuspend, or one it would have sent
    }
    logActivity('KYC gate: service #' . $serviceId . ' was unsuspended by hand while its customer is not verified; the gate has been told', $clientId);
    kycgate_staff_action($serviceId, 'module_unsuspend', kycgate_current_admin_id());
}

/** PreAdminServiceEdit: remembers the service's status before staff save it. */
function kycgate_before_service_edit($serviceId)
{
    $service = Capsule::table('tblhosting')->where('id', (int) $serviceId)->first();
    if ($service) {
        $state = &kycgate_request_state();
        $state['edit'][(int) $serviceId] = (string) $service->domainstatus;
    }
}

/**
 * AdminServiceEdit: staff set a held KYC service from Pending to Active by
 * hand (the way a product without a module is provisioned). That cannot be
 * stopped from a hook; the gate is told, as for a create by hand.
 */
function kycgate_after_service_edit($serviceId)
{
    $state = &kycgate_request_state();
    $before = isset($state['edit'][(int) $serviceId]) ? $state['edit'][(int) $serviceId] : '';
    $service = Capsule::table('tblhosting')->where('id', (int) $serviceId)->first();
    if (!$service || $before !== 'Pending' || (string) $service->domainstatus !== 'Active'
        || kycgate_product_id($service->packageid) === null) {
        return;
    }
    $kyc = kycgate_customer_kyc($service->userid, true);
    if ($kyc['ok'] && ($kyc['data']['status'] === 'verified' || in_array((string) (int) $serviceId, $kyc['data']['released'], true))) {
        return;
    }
    logActivity('KYC gate: service #' . (int) $serviceId . ' was set Active by hand while its customer is not verified; the gate has been told', (int) $service->userid);
    kycgate_staff_action($serviceId, 'module_create', kycgate_current_admin_id());
}

/**
 * Grants a one-time override: the next create of the service passes the
 * guard without asking the gate. Logged in the activity log and reported to
 * the gate (StaffAction override), which keeps it in the customer's audit
 * trail. Returns an error message, or '' on success.
 */
function kycgate_grant_override($serviceId, $adminId, $reason)
{
    $service = Capsule::table('tblhosting')->where('id', (int) $serviceId)->first();
    if (!$service) {
        return 'No service #' . (int) $serviceId . '.';
    }
    if (kycgate_product_id($service->packageid) === null) {
        return 'Service #' . (int) $serviceId . ' is not a KYC product: the guard does not stop it.';
    }
    $reason = trim(preg_replace('/\s+/', ' ', (string) $reason));
    if ($reason === '') {
        return 'Give a reason: it is kept in the activity log.';
    }
    $minutes = max(1, min(1440, (int) kycgate_settings()['override_minutes']));
    $now = time();
    Capsule::table('mod_kycgate_overrides')->insert(array(
        'service_id' => (int) $serviceId,
        'client_id' => (int) $service->userid,
        'admin_id' => (int) $adminId,
        'reason' => substr($reason, 0, 255),
        'created_at' => date('Y-m-d H:i:s', $now),
        'expires_at' => date('Y-m-d H:i:s', $now + 60 * $minutes),
        'used_at' => null,
    ));
    logActivity('KYC gate: admin #' . (int) $adminId . ' granted a provisioning override for service #' . (int) $serviceId
        . ' (valid ' . $minutes . ' minutes, one create). Reason: ' . substr($reason, 0, 255), (int) $service->userid);
    kycgate_staff_action($serviceId, 'override', $adminId);
    return '';
}
