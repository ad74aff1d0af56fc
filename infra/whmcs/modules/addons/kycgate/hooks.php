<?php
/**
 * KYC gate addon: the WHMCS hooks it registers. WHMCS loads this file on
 * every page while the addon is active. Each hook is a few lines; the work
 * is in lib/. No hook ever stops WHMCS with an error: failures are logged
 * (Activity Log, ids and outcomes only), except the provisioning guard,
 * which fails closed (a create it cannot decide on is aborted).
 *
 * Hook names and the $vars keys read here are checked against
 * infra/whmcs/testdata/hooks.json (taken from the WHMCS hook reference) by
 * the test harness.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/lib/core.php';
require_once __DIR__ . '/lib/guard.php';
require_once __DIR__ . '/lib/signin.php';
require_once __DIR__ . '/lib/ui.php';

/* ---- orders: when the hold starts ---- */

add_hook('OrderPaid', 1, function ($vars) {
    kycgate_safely('OrderPaid', function () use ($vars) {
        if (kycgate_settings()['trigger'] === 'paid') {
            kycgate_order_placed((int) $vars['orderId']);
        }
    });
});

add_hook('AcceptOrder', 1, function ($vars) {
    kycgate_safely('AcceptOrder', function () use ($vars) {
        if (kycgate_settings()['trigger'] === 'accept') {
            kycgate_order_placed((int) $vars['orderid']);
        }
    });
});

add_hook('AfterShoppingCartCheckout', 1, function ($vars) {
    kycgate_safely('AfterShoppingCartCheckout', function () use ($vars) {
        $trigger = kycgate_settings()['trigger'];
        // With trigger "paid", an order without an invoice (free) is never
        // "paid" (OrderPaid runs for a first invoice): it starts here.
        if ($trigger === 'checkout' || ($trigger === 'paid' && (int) $vars['InvoiceID'] === 0)) {
            kycgate_order_placed((int) $vars['OrderID']);
        }
    });
});

/* ---- orders and services that end ---- */

foreach (array('CancelOrder', 'FraudOrder', 'DeleteOrder') as $kycgateHook) {
    add_hook($kycgateHook, 1, function ($vars) use ($kycgateHook) {
        kycgate_safely($kycgateHook, function () use ($vars) {
            kycgate_order_cancelled((int) $vars['orderid']);
        });
    });
}
unset($kycgateHook);

add_hook('AfterModuleTerminate', 1, function ($vars) {
    kycgate_safely('AfterModuleTerminate', function () use ($vars) {
        kycgate_service_expired((int) $vars['params']['serviceid']);
    });
});

add_hook('ServiceDelete', 1, function ($vars) {
    kycgate_safely('ServiceDelete', function () use ($vars) {
        kycgate_service_expired((int) $vars['serviceid']);
    });
});

/* ---- the provisioning guard and what staff do by hand ---- */

add_hook('PreModuleCreate', 1, function ($vars) {
    try {
        return kycgate_guard_create($vars['params']);
    } catch (\Throwable $e) {
        logActivity('KYC gate: module create blocked: the guard failed (' . get_class($e) . '); nothing was created. '
            . 'Grant an override in Addons > KYC gate if this persists.');
        return array('abortcmd' => true);
    }
});

add_hook('AfterModuleCreate', 1, function ($vars) {
    kycgate_safely('AfterModuleCreate', function () use ($vars) {
        kycgate_after_create($vars['params']);
    });
});

add_hook('PreModuleUnsuspend', 1, function ($vars) {
    kycgate_safely('PreModuleUnsuspend', function () use ($vars) {
        kycgate_before_unsuspend($vars['params']);
    });
});

add_hook('AfterModuleUnsuspend', 1, function ($vars) {
    kycgate_safely('AfterModuleUnsuspend', function () use ($vars) {
        kycgate_after_unsuspend($vars['params']);
    });
});

add_hook('PreAdminServiceEdit', 1, function ($vars) {
    kycgate_safely('PreAdminServiceEdit', function () use ($vars) {
        kycgate_before_service_edit((int) $vars['serviceid']);
    });
});

add_hook('AdminServiceEdit', 1, function ($vars) {
    kycgate_safely('AdminServiceEdit', function () use ($vars) {
        kycgate_after_service_edit((int) $vars['serviceid']);
    });
});

/* ---- durable delivery ---- */

add_hook('AfterCronJob', 1, function ($vars) {
    kycgate_safely('AfterCronJob', function () {
        kycgate_retry();
    });
});

/* ---- what clients see ---- */

add_hook('ClientAreaHomepagePanels', 1, function ($homePagePanels) {
    kycgate_safely('ClientAreaHomepagePanels', function () use ($homePagePanels) {
        $clientId = kycgate_current_client_id();
        $panel = $clientId > 0 ? kycgate_homepage_panel($clientId) : null;
        if ($panel !== null) {
            $homePagePanels->addChild('kycgate', $panel);
        }
    });
});

add_hook('ShoppingCartCheckoutOutput', 1, function ($vars) {
    return kycgate_safely('ShoppingCartCheckoutOutput', function () use ($vars) {
        return kycgate_checkout_notice($vars['cartData']);
    }, '');
});

/* ---- what staff see ---- */

add_hook('AdminAreaClientSummaryPage', 1, function ($vars) {
    return kycgate_safely('AdminAreaClientSummaryPage', function () use ($vars) {
        return kycgate_admin_summary((int) $vars['userid']);
    }, '');
});

add_hook('AdminClientServicesTabFields', 1, function ($vars) {
    return kycgate_safely('AdminClientServicesTabFields', function () use ($vars) {
        $html = kycgate_admin_service_field((int) $vars['id']);
        return $html === '' ? array() : array('KYC gate' => $html);
    }, array());
});

add_hook('AdminAreaViewTicketPageSidebar', 1, function ($vars) {
    return kycgate_safely('AdminAreaViewTicketPageSidebar', function () use ($vars) {
        return kycgate_admin_ticket_sidebar((int) $vars['ticketid']);
    }, '');
});

if (class_exists('\WHMCS\Module\AbstractWidget') && !class_exists('KycgateReviewQueueWidget')) {
    /** Dashboard widget: the gate's review queue and the events parked on the way to it. */
    class KycgateReviewQueueWidget extends \WHMCS\Module\AbstractWidget
    {
        protected $title = 'KYC review queue';
        protected $description = 'Submissions waiting for a KYC reviewer, and events parked on the way to the gate.';
        protected $weight = 150;
        protected $columns = 1;
        protected $cache = true;
        protected $cacheExpiry = 120;
        protected $requiredPermission = 'View Clients Summary';

        public function getData()
        {
            return kycgate_safely('AdminHomeWidgets', function () {
                return kycgate_widget_data();
            }, array());
        }

        public function generateOutput($data)
        {
            return kycgate_safely('AdminHomeWidgets', function () use ($data) {
                return kycgate_widget_html($data);
            }, '<div class="widget-content-padded">The KYC gate cannot be asked right now.</div>');
        }
    }

    add_hook('AdminHomeWidgets', 1, function () {
        return new KycgateReviewQueueWidget();
    });
}
