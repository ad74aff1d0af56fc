<?php
/**
 * KYC gate addon: what clients and staff see. Every customer-facing string
 * is in kycgate_messages(), in English and Traditional Chinese; every value
 * is escaped with kycgate_h(). Times are shown in the service region's time
 * zone with UTC beside them.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

use WHMCS\Database\Capsule;

/** The customer-facing messages of a language ("en" or "zh-Hant"). */
function kycgate_messages($lang)
{
    $en = array(
        'title' => 'Identity verification (KYC)',
        'status' => 'Status',
        'status.unverified' => 'Not verified',
        'status.pending_review' => 'Documents under review',
        'status.verified' => 'Verified',
        'status.rejected' => 'Not accepted – please submit again',
        'status.expired' => 'Expired – please verify again',
        'valid_until' => 'Valid until %s',
        'unavailable' => 'Your verification status cannot be shown right now. Please try again in a few minutes.',
        'needed' => 'What you need',
        'needed.identity' => 'One government-issued photo ID: national ID card, driving licence, passport or other travel document, visa, or business registration certificate (business accounts).',
        'needed.address' => 'One proof of address with your full name and address: bank or credit-card statement, utility bill (water, electricity, gas, landline, internet, cable TV, mobile phone) or tax return.',
        'holds' => 'Orders waiting for verification',
        'service' => 'Service #%s',
        'ordered' => 'Ordered %s',
        'deadline' => 'Deadline',
        'left' => '%s left',
        'passed' => 'The deadline has passed',
        'days' => '%d days',
        'hours' => '%d hours',
        'minutes' => '%d minutes',
        'hold.awaiting_kyc' => 'Waiting for your documents. Verify within 3 days of ordering and the service is set up, with its due date moved by the time you took.',
        'hold.awaiting_review' => 'We are reviewing your documents. The 3-day clock is stopped while we review.',
        'hold.suspended_kyc' => 'Set up and suspended until you are verified (the 3 days passed without your documents).',
        'hold.other' => 'In progress.',
        'verify_now' => 'Verify my identity',
        'ticket' => 'Your KYC ticket: #%s',
        'panel' => 'Identity verification needed',
        'panel.body' => '%d order(s) wait for your identity verification.',
        'panel.more' => 'Details',
        'checkout' => 'Identity verification required',
        'checkout.body' => '%s requires identity verification (KYC). After you order we will ask you for one photo ID and one proof of address; you have 3 days to provide them. If you do, the service is set up and its due date moved by the time you took; if not, it is set up and suspended until you are verified.',
        'signin.title' => 'Opening the verification page',
        'signin.body' => 'You are being taken to our verification service.',
        'signin.continue' => 'Continue',
        'signin.error' => 'The verification page cannot be opened right now. Please try again later or open a ticket.',
        'signin.expired' => 'The link has expired. Please press the button on the verification page again.',
        'signin.staff' => 'Staff logged in as this client cannot open the verification page: only the customer can.',
        'utc' => 'UTC',
    );
    $zh = array(
        'title' => '身份驗證（KYC）',
        'status' => '狀態',
        'status.unverified' => '未驗證',
        'status.pending_review' => '文件審核中',
        'status.verified' => '已驗證',
        'status.rejected' => '未通過，請重新提交',
        'status.expired' => '已過期，請重新驗證',
        'valid_until' => '有效期至 %s',
        'unavailable' => '暫時無法顯示您的驗證狀態，請稍後再試。',
        'needed' => '所需文件',
        'needed.identity' => '以下政府發布的帶有照片的證件之一：身份證、駕駛執照、護照或者其他旅行證件、旅行簽證頁、商業註冊登記證（商業客戶）。',
        'needed.address' => '以下地址證明之一，帶有您的全名和地址：銀行／信用卡對帳單、水電費帳單（水、電、氣、座機、互聯網、有線電視、手機帳單）或報稅表。',
        'holds' => '等待驗證的訂單',
        'service' => '服務 #%s',
        'ordered' => '訂購於 %s',
        'deadline' => '期限',
        'left' => '尚餘 %s',
        'passed' => '期限已過',
        'days' => '%d 天',
        'hours' => '%d 小時',
        'minutes' => '%d 分鐘',
        'hold.awaiting_kyc' => '等待您提交文件。於訂購後 3 天內通過驗證，服務即會開通，並按您所用的時間延後到期日。',
        'hold.awaiting_review' => '我們正在審核您的文件，審核期間 3 天期限暫停計算。',
        'hold.suspended_kyc' => '3 天內未收到您的文件：服務已開通並暫停，直至您通過驗證。',
        'hold.other' => '處理中。',
        'verify_now' => '立即驗證身份',
        'ticket' => '您的 KYC 工單：#%s',
        'panel' => '需要身份驗證',
        'panel.body' => '有 %d 張訂單正等待您的身份驗證。',
        'panel.more' => '詳情',
        'checkout' => '需要身份驗證',
        'checkout.body' => '%s 需要身份驗證（KYC）。下單後我們會請您提供一份帶照片的證件及一份地址證明，您有 3 天時間提交。如期通過，服務即會開通，並按您所用的時間延後到期日；否則服務會開通並暫停，直至您通過驗證。',
        'signin.title' => '正在開啟驗證頁面',
        'signin.body' => '正在帶您前往我們的驗證服務。',
        'signin.continue' => '繼續',
        'signin.error' => '暫時無法開啟驗證頁面，請稍後再試或提交工單。',
        'signin.expired' => '連結已過期，請在驗證頁面再按一次按鈕。',
        'signin.staff' => '以客戶身份登入的職員不能開啟驗證頁面，只有客戶本人可以。',
        'utc' => 'UTC',
    );
    return $lang === 'zh-Hant' ? $zh : $en;
}

/** The client-facing language of this request: the session's WHMCS language, else the client's. */
function kycgate_page_language($clientId)
{
    if (isset($_SESSION['Language']) && kycgate_language($_SESSION['Language']) !== null) {
        return kycgate_language($_SESSION['Language']);
    }
    if ($clientId > 0) {
        $client = Capsule::table('tblclients')->where('id', (int) $clientId)->first();
        if ($client && kycgate_language($client->language) !== null) {
            return kycgate_language($client->language);
        }
    }
    return 'en';
}

/** Hold states in which the customer still has something to do or wait for. */
function kycgate_open_hold_states()
{
    return array('awaiting_kyc', 'awaiting_review', 'suspended_kyc');
}

/** The open holds of a gate reply. */
function kycgate_open_holds(array $kyc)
{
    $out = array();
    foreach ($kyc['holds'] as $hold) {
        if (isset($hold['state']) && in_array($hold['state'], kycgate_open_hold_states(), true)) {
            $out[] = $hold;
        }
    }
    return $out;
}

/** A hold's time zone: the gate's, else the region's, else UTC. */
function kycgate_hold_timezone(array $hold)
{
    $zone = isset($hold['timeZone']) && is_string($hold['timeZone']) ? $hold['timeZone'] : '';
    if ($zone === '' || !in_array($zone, DateTimeZone::listIdentifiers(), true)) {
        $zone = kycgate_region_timezone(isset($hold['serverRegion']) ? (string) $hold['serverRegion'] : '');
    }
    return $zone;
}

/** "2026-12-08 18:00 (Asia/Hong_Kong)" and "2026-12-08 10:00 UTC" of an RFC 3339 time. */
function kycgate_format_time($rfc3339, $zone)
{
    try {
        $t = new DateTime((string) $rfc3339);
    } catch (\Exception $e) {
        return array('', '');
    }
    $local = clone $t;
    $local->setTimezone(new DateTimeZone($zone));
    $t->setTimezone(new DateTimeZone('UTC'));
    return array($local->format('Y-m-d H:i') . ' (' . $zone . ')', $t->format('Y-m-d H:i') . ' UTC');
}

/** "2 days 3 hours" until a time, or '' when it has passed. */
function kycgate_remaining($rfc3339, array $m, $now = null)
{
    try {
        $left = (new DateTime((string) $rfc3339))->getTimestamp() - ($now === null ? time() : $now);
    } catch (\Exception $e) {
        return '';
    }
    if ($left <= 0) {
        return '';
    }
    $d = intdiv($left, 86400);
    $h = intdiv($left % 86400, 3600);
    $min = intdiv($left % 3600, 60);
    $parts = array();
    if ($d > 0) {
        $parts[] = sprintf($m['days'], $d);
    }
    if ($d > 0 || $h > 0) {
        $parts[] = sprintf($m['hours'], $h);
    }
    if ($d === 0) {
        $parts[] = sprintf($m['minutes'], $min);
    }
    return implode(' ', $parts);
}

/** The countdown element (kycgate.js keeps it current). */
function kycgate_countdown_html($deadline, array $m)
{
    $left = kycgate_remaining($deadline, $m);
    $text = $left === '' ? $m['passed'] : sprintf($m['left'], $left);
    return '<span class="kycgate-countdown" data-deadline="' . kycgate_h($deadline) . '"'
        . ' data-left="' . kycgate_h($m['left']) . '" data-passed="' . kycgate_h($m['passed']) . '"'
        . ' data-days="' . kycgate_h($m['days']) . '" data-hours="' . kycgate_h($m['hours']) . '"'
        . ' data-minutes="' . kycgate_h($m['minutes']) . '">' . kycgate_h($text) . '</span>';
}

/** The button that signs the client into the gate (POST with WHMCS's CSRF token, never a token in a URL). */
function kycgate_signin_button_html(array $m, $csrf)
{
    return '<form method="post" action="index.php?m=kycgate&amp;action=signin" class="kycgate-signin-start">'
        . '<input type="hidden" name="token" value="' . kycgate_h($csrf) . '">'
        . '<button type="submit" class="btn btn-primary">' . kycgate_h($m['verify_now']) . '</button></form>';
}

/** WHMCS's CSRF token for a form in the client area. */
function kycgate_csrf_token()
{
    return function_exists('generate_token') ? (string) generate_token('plain') : '';
}

/** The client's open KYC ticket (opened by the gate's notifier, subject tag "[KYC-"), or null. */
function kycgate_open_kyc_ticket($clientId)
{
    return Capsule::table('tbltickets')
        ->where('userid', (int) $clientId)
        ->where('title', 'like', '%[KYC-%')
        ->where('status', '!=', 'Closed')
        ->orderBy('id', 'desc')
        ->first();
}

/** The client area KYC page (index.php?m=kycgate). */
function kycgate_render_client_page($clientId, $lang)
{
    $m = kycgate_messages($lang);
    $h = '<div class="kycgate" lang="' . kycgate_h($lang) . '">';
    $kyc = kycgate_customer_kyc($clientId);
    if (!$kyc['ok']) {
        $h .= '<div class="alert alert-warning">' . kycgate_h($m['unavailable']) . '</div>';
        $d = array('status' => 'unverified', 'expiresAt' => '', 'holds' => array());
    } else {
        $d = $kyc['data'];
    }
    $open = kycgate_open_holds($d);
    $zone = count($open) > 0 ? kycgate_hold_timezone($open[0]) : kycgate_region_timezone(kycgate_settings()['default_region']);
    $statusKey = 'status.' . $d['status'];
    $h .= '<p class="kycgate-status"><strong>' . kycgate_h($m['status']) . ':</strong> '
        . kycgate_h(isset($m[$statusKey]) ? $m[$statusKey] : $d['status']);
    if ($d['status'] === 'verified' && $d['expiresAt'] !== '') {
        list($local, $utc) = kycgate_format_time($d['expiresAt'], $zone);
        $h .= ' · ' . kycgate_h(sprintf($m['valid_until'], $local)) . ' <small>(' . kycgate_h($utc) . ')</small>';
    }
    $h .= '</p>';

    if (count($open) > 0) {
        $h .= '<h3>' . kycgate_h($m['holds']) . '</h3><ul class="kycgate-holds">';
        foreach ($open as $hold) {
            $tz = kycgate_hold_timezone($hold);
            $state = (string) $hold['state'];
            $h .= '<li class="kycgate-hold" data-state="' . kycgate_h($state) . '"><strong>'
                . kycgate_h(sprintf($m['service'], isset($hold['serviceId']) ? $hold['serviceId'] : '')) . '</strong>';
            if (!empty($hold['orderedAt'])) {
                list($local) = kycgate_format_time($hold['orderedAt'], $tz);
                $h .= ' · ' . kycgate_h(sprintf($m['ordered'], $local));
            }
            $h .= '<br>' . kycgate_h(isset($m['hold.' . $state]) ? $m['hold.' . $state] : $m['hold.other']);
            if ($state === 'awaiting_kyc' && !empty($hold['deadline'])) {
                list($local, $utc) = kycgate_format_time($hold['deadline'], $tz);
                $h .= '<br><strong>' . kycgate_h($m['deadline']) . ':</strong> <span class="kycgate-deadline">'
                    . kycgate_h($local) . '</span> <small>(' . kycgate_h($utc) . ')</small> · '
                    . kycgate_countdown_html($hold['deadline'], $m);
            }
            $h .= '</li>';
        }
        $h .= '</ul>';
    }

    if ($d['status'] !== 'verified' || count($open) > 0) {
        $h .= '<h3>' . kycgate_h($m['needed']) . '</h3><ul class="kycgate-needed"><li>' . kycgate_h($m['needed.identity'])
            . '</li><li>' . kycgate_h($m['needed.address']) . '</li></ul>';
        $h .= kycgate_signin_button_html($m, kycgate_csrf_token());
    }
    $ticket = kycgate_open_kyc_ticket($clientId);
    if ($ticket) {
        $h .= '<p class="kycgate-ticket"><a href="viewticket.php?tid=' . rawurlencode((string) $ticket->tid) . '&amp;c='
            . rawurlencode((string) $ticket->c) . '">' . kycgate_h(sprintf($m['ticket'], $ticket->tid)) . '</a></p>';
    }
    $h .= '</div><script src="modules/addons/kycgate/assets/kycgate.js" defer></script>';
    return $h;
}

/**
 * The page the sign-in button leads to: a form that POSTs the token to the
 * gate, submitted by kycgate.js, with a visible button if scripts are off.
 */
function kycgate_render_signin_page($token, $lang)
{
    $m = kycgate_messages($lang);
    $action = kycgate_settings()['signin_url'];
    return '<div class="kycgate" lang="' . kycgate_h($lang) . '"><h2>' . kycgate_h($m['signin.title']) . '</h2>'
        . '<form id="kycgate-signin" method="post" action="' . kycgate_h($action) . '"'
        . ' enctype="application/x-www-form-urlencoded" data-autosubmit="1">'
        . '<input type="hidden" name="token" value="' . kycgate_h($token) . '">'
        . '<p>' . kycgate_h($m['signin.body']) . '</p>'
        . '<button type="submit" class="btn btn-primary">' . kycgate_h($m['signin.continue']) . '</button>'
        . '</form></div><script src="modules/addons/kycgate/assets/kycgate.js" defer></script>';
}

/** The home page panel of a client with open holds, or null. */
function kycgate_homepage_panel($clientId)
{
    $kyc = kycgate_customer_kyc($clientId);
    if (!$kyc['ok']) {
        return null;
    }
    $open = kycgate_open_holds($kyc['data']);
    if (count($open) === 0) {
        return null;
    }
    $lang = kycgate_page_language($clientId);
    $m = kycgate_messages($lang);
    $body = '<div class="kycgate" lang="' . kycgate_h($lang) . '"><p>' . kycgate_h(sprintf($m['panel.body'], count($open))) . '</p>';
    $next = null;
    foreach ($open as $hold) {
        if ($hold['state'] === 'awaiting_kyc' && !empty($hold['deadline']) && ($next === null || strcmp($hold['deadline'], $next['deadline']) < 0)) {
            $next = $hold;
        }
    }
    if ($next !== null) {
        $tz = kycgate_hold_timezone($next);
        list($local, $utc) = kycgate_format_time($next['deadline'], $tz);
        $body .= '<p><strong>' . kycgate_h($m['deadline']) . ':</strong> <span class="kycgate-deadline">' . kycgate_h($local)
            . '</span> <small>(' . kycgate_h($utc) . ')</small><br>' . kycgate_countdown_html($next['deadline'], $m) . '</p>';
    }
    $body .= kycgate_signin_button_html($m, kycgate_csrf_token()) . '</div>'
        . '<script src="modules/addons/kycgate/assets/kycgate.js" defer></script>';
    return array(
        'label' => $m['panel'],
        'icon' => 'fa-id-card',
        'order' => 5,
        'extras' => array('color' => 'orange', 'btn-link' => 'index.php?m=kycgate', 'btn-text' => $m['panel.more']),
        'bodyHtml' => $body,
    );
}

/** The pids of the products in the cart at checkout. */
function kycgate_cart_product_ids($cartData)
{
    $pids = array();
    $lists = array();
    if (is_array($cartData) && isset($cartData['products']) && is_array($cartData['products'])) {
        $lists[] = $cartData['products'];
    }
    if (isset($_SESSION['cart']['products']) && is_array($_SESSION['cart']['products'])) {
        $lists[] = $_SESSION['cart']['products'];
    }
    foreach ($lists as $list) {
        foreach ($list as $item) {
            if (is_array($item) && isset($item['pid'])) {
                $pids[(int) $item['pid']] = true;
            }
        }
    }
    return array_keys($pids);
}

/** The checkout notice for a cart with KYC products, or ''. */
function kycgate_checkout_notice($cartData)
{
    if (kycgate_settings()['checkout_notice'] === '') {
        return '';
    }
    $names = array();
    foreach (kycgate_cart_product_ids($cartData) as $pid) {
        if (kycgate_product_id($pid) !== null) {
            $p = Capsule::table('tblproducts')->where('id', $pid)->first();
            $names[] = $p ? (string) $p->name : ('#' . $pid);
        }
    }
    if (count($names) === 0) {
        return '';
    }
    $clientId = kycgate_current_client_id();
    if ($clientId > 0) {
        $kyc = kycgate_customer_kyc($clientId);
        if ($kyc['ok'] && $kyc['data']['status'] === 'verified') {
            return '';
        }
    }
    $m = kycgate_messages(kycgate_page_language($clientId));
    return '<div class="alert alert-info kycgate-checkout"><strong>' . kycgate_h($m['checkout']) . '</strong><br>'
        . kycgate_h(sprintf($m['checkout.body'], implode(', ', $names))) . '</div>';
}

/* ------------------------------------------------------------------ staff */

/** The gate's reviewer console page of a customer. */
function kycgate_console_link($clientId)
{
    $base = kycgate_settings()['console_url'];
    if ($base === '') {
        return '';
    }
    return '<a href="' . kycgate_h($base . '/customers/' . (int) $clientId) . '" target="_blank" rel="noopener noreferrer">Open in the KYC reviewer console</a>';
}

/** Staff's wording of a hold state. */
function kycgate_admin_state($state)
{
    $names = array(
        'awaiting_kyc' => 'waiting for documents', 'awaiting_review' => 'documents under review',
        'suspended_kyc' => 'provisioned and suspended (KYC)', 'provisioned_extended' => 'provisioned, due date extended',
        'released' => 'provisioned (late approval)', 'cancelled' => 'cancelled', 'expired' => 'service ended',
        'provisioned' => 'provisioned (customer verified)', 'not_required' => 'no KYC needed',
    );
    return isset($names[$state]) ? $names[$state] : (string) $state;
}

/** The KYC block of the admin client summary. */
function kycgate_admin_summary($clientId)
{
    $h = '<div class="kycgate-admin panel panel-default"><div class="panel-heading"><h3 class="panel-title">KYC gate</h3></div><div class="panel-body">';
    $kyc = kycgate_customer_kyc($clientId);
    if (!$kyc['ok']) {
        $h .= '<p class="text-danger">The KYC gate cannot be asked right now (' . kycgate_h($kyc['error']) . '). '
            . 'The provisioning guard blocks creates of KYC products until it answers.</p>';
    } else {
        $d = $kyc['data'];
        $h .= '<p><strong>Status:</strong> ' . kycgate_h(str_replace('_', ' ', $d['status']));
        if ($d['verifiedAt'] !== '') {
            $h .= ' · verified ' . kycgate_h(substr($d['verifiedAt'], 0, 10));
        }
        if ($d['expiresAt'] !== '') {
            $h .= ' · valid until ' . kycgate_h(substr($d['expiresAt'], 0, 10));
        }
        $h .= '</p>';
        if (count($d['holds']) > 0) {
            $h .= '<table class="table table-condensed"><tr><th>Service</th><th>Hold</th><th>Ordered</th><th>Deadline</th></tr>';
            foreach ($d['holds'] as $hold) {
                $tz = kycgate_hold_timezone($hold);
                $sid = isset($hold['serviceId']) ? (int) $hold['serviceId'] : 0;
                list($ordered) = kycgate_format_time(isset($hold['orderedAt']) ? $hold['orderedAt'] : '', $tz);
                list($deadline, $utc) = kycgate_format_time(isset($hold['deadline']) ? $hold['deadline'] : '', $tz);
                $h .= '<tr><td><a href="clientsservices.php?userid=' . (int) $clientId . '&amp;id=' . $sid . '">#' . $sid . '</a></td>'
                    . '<td>' . kycgate_h(kycgate_admin_state(isset($hold['state']) ? $hold['state'] : '')) . '</td>'
                    . '<td>' . kycgate_h($ordered) . '</td><td>' . kycgate_h($deadline) . ($utc !== '' ? ' <small>' . kycgate_h($utc) . '</small>' : '') . '</td></tr>';
            }
            $h .= '</table>';
        }
    }
    $blocked = Capsule::table('mod_kycgate_guard')->where('client_id', (int) $clientId)->where('decision', 'blocked')
        ->orderBy('id', 'desc')->limit(3)->get();
    foreach ($blocked as $b) {
        $h .= '<p class="text-warning">Module create of service #' . (int) $b->service_id . ' blocked ' . kycgate_h($b->created_at)
            . ': ' . kycgate_h(kycgate_guard_advice($b->reason)) . '</p>';
    }
    $h .= '<p>' . kycgate_console_link($clientId) . '</p></div></div>';
    return $h;
}

/** The KYC field of a service's tab in the admin area ('' for other products). */
function kycgate_admin_service_field($serviceId)
{
    $service = Capsule::table('tblhosting')->where('id', (int) $serviceId)->first();
    if (!$service || kycgate_product_id($service->packageid) === null) {
        return '';
    }
    $h = 'KYC product: module creates are guarded.';
    $last = Capsule::table('mod_kycgate_guard')->where('service_id', (int) $serviceId)->orderBy('id', 'desc')->first();
    if ($last) {
        $h .= '<br>Last decision ' . kycgate_h($last->created_at) . ': ' . kycgate_h($last->decision) . ' (' . kycgate_h($last->reason) . ')';
        if ($last->decision === 'blocked') {
            $h .= ' – ' . kycgate_h(kycgate_guard_advice($last->reason));
        }
    }
    $h .= '<br><a href="addonmodules.php?module=kycgate&amp;action=override&amp;serviceid=' . (int) $serviceId
        . '">Grant a provisioning override…</a>';
    return $h;
}

/** The KYC box beside a ticket in the admin area. */
function kycgate_admin_ticket_sidebar($ticketId)
{
    $ticket = Capsule::table('tbltickets')->where('id', (int) $ticketId)->first();
    if (!$ticket || (int) $ticket->userid <= 0) {
        return '';
    }
    $clientId = (int) $ticket->userid;
    $h = '<div class="kycgate-ticket"><strong>KYC</strong><br>';
    $kyc = kycgate_customer_kyc($clientId);
    if (!$kyc['ok']) {
        $h .= 'The KYC gate cannot be asked right now.';
    } else {
        $d = $kyc['data'];
        $h .= 'Status: ' . kycgate_h(str_replace('_', ' ', $d['status']));
        if ($d['expiresAt'] !== '') {
            $h .= ', valid until ' . kycgate_h(substr($d['expiresAt'], 0, 10));
        }
        $open = kycgate_open_holds($d);
        $h .= '<br>Open holds: ' . count($open);
        foreach ($open as $hold) {
            $h .= '<br>#' . (int) $hold['serviceId'] . ' ' . kycgate_h(kycgate_admin_state($hold['state']));
        }
    }
    if (strpos((string) $ticket->title, '[KYC-') !== false) {
        $h .= '<br><em>This is the customer\'s KYC case ticket (the gate adds its notices here).</em>';
    }
    return $h . '<br>' . kycgate_console_link($clientId) . '</div>';
}

/** What the dashboard widget shows (cached by WHMCS for cacheExpiry seconds). */
function kycgate_widget_data()
{
    return array(
        'queue' => kycgate_review_queue(),
        'parked' => Capsule::table('mod_kycgate_outbox')->whereNull('next_attempt_at')->count(),
    );
}

/** The dashboard widget's body. */
function kycgate_widget_html($data)
{
    if (!is_array($data) || !isset($data['queue'])) {
        $data = kycgate_widget_data();
    }
    $q = $data['queue'];
    $parked = (int) $data['parked'];
    $h = '<div class="widget-content-padded kycgate-widget">';
    if (!$q['ok']) {
        $h .= '<p class="text-danger">The KYC gate cannot be asked right now (' . kycgate_h($q['error']) . ').</p>';
    } else {
        $wait = (int) $q['data']['oldestWaitSeconds'];
        $h .= '<p><strong>' . (int) $q['data']['size'] . '</strong> submission(s) waiting for review';
        if ((int) $q['data']['size'] > 0) {
            $h .= ', the oldest for ' . ($wait >= 86400 ? intdiv($wait, 86400) . ' d ' : '') . intdiv($wait % 86400, 3600) . ' h '
                . intdiv($wait % 3600, 60) . ' min';
        }
        $h .= '.</p>';
    }
    if ($parked > 0) {
        $h .= '<p class="text-warning">' . (int) $parked . ' event(s) to the gate parked: see <a href="addonmodules.php?module=kycgate">Addons &gt; KYC gate</a>.</p>';
    }
    $console = kycgate_settings()['console_url'];
    if ($console !== '') {
        $h .= '<p><a href="' . kycgate_h($console) . '" target="_blank" rel="noopener noreferrer">Open the reviewer console</a></p>';
    }
    return $h . '</div>';
}
