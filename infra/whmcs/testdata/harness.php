<?php
// A stand-in for the parts of WHMCS the kycgate addon uses, to run the addon
// without WHMCS (which is proprietary):
//
//   php harness.php <addon dir> <hooks.json> <scenario.json>
//
// It provides add_hook, localAPI (EncryptPassword/DecryptPassword),
// logActivity, generate_token/check_token, WHMCS\Database\Capsule (a query
// builder subset over in-memory tables), WHMCS\Authentication\CurrentUser,
// WHMCS\View\Menu\Item, WHMCS\Module\AbstractWidget, and the bits of WHMCS's
// own behaviour the addon reacts to (accepting an order with autosetup,
// paying an invoice, Module Create/Unsuspend/Terminate, deleting a service,
// staff editing a service, the client area, the admin pages).
//
// It is strict about the hook contract: add_hook with a name that is not in
// hooks.json, or reading a $vars key that hooks.json does not document for
// that hook, is a violation, and the harness then exits with status 3.
//
// The scenario is {"tables": {...}, "steps": [...]}; each step's result and
// the final tables, activity log and violations are printed as JSON.

namespace WHMCS\Database {
    class Query
    {
        private $table;
        private $wheres = array();
        private $orders = array();
        private $limit = null;

        public function __construct($table)
        {
            $this->table = $table;
        }

        public function where($column, $op = null, $value = null)
        {
            if (func_num_args() === 2) {
                $value = $op;
                $op = '=';
            }
            $this->wheres[] = array($column, strtolower($op), $value);
            return $this;
        }

        public function whereNull($column)
        {
            $this->wheres[] = array($column, 'null', null);
            return $this;
        }

        public function whereNotNull($column)
        {
            $this->wheres[] = array($column, 'notnull', null);
            return $this;
        }

        public function orderBy($column, $dir = 'asc')
        {
            $this->orders[] = array($column, strtolower($dir));
            return $this;
        }

        public function limit($n)
        {
            $this->limit = $n;
            return $this;
        }

        private static function cmp($a, $b)
        {
            if (is_numeric($a) && is_numeric($b)) {
                return $a <=> $b;
            }
            return strcmp((string) $a, (string) $b);
        }

        private function matches($row)
        {
            foreach ($this->wheres as $w) {
                list($c, $op, $v) = $w;
                $have = array_key_exists($c, $row) ? $row[$c] : null;
                switch ($op) {
                    case '=':
                        if ($have === null || (string) $have !== (string) $v) {
                            return false;
                        }
                        break;
                    case '!=':
                    case '<>':
                        if ($have !== null && (string) $have === (string) $v) {
                            return false;
                        }
                        break;
                    case '<':
                    case '<=':
                    case '>':
                    case '>=':
                        if ($have === null) {
                            return false;
                        }
                        $r = self::cmp($have, $v);
                        if (($op === '<' && !($r < 0)) || ($op === '<=' && !($r <= 0)) || ($op === '>' && !($r > 0)) || ($op === '>=' && !($r >= 0))) {
                            return false;
                        }
                        break;
                    case 'like':
                        $re = '/^' . str_replace('%', '.*', preg_quote((string) $v, '/')) . '$/is';
                        if ($have === null || !preg_match($re, (string) $have)) {
                            return false;
                        }
                        break;
                    case 'null':
                        if ($have !== null) {
                            return false;
                        }
                        break;
                    case 'notnull':
                        if ($have === null) {
                            return false;
                        }
                        break;
                    default:
                        throw new \RuntimeException('harness: operator ' . $op . ' not simulated');
                }
            }
            return true;
        }

        private function &rows()
        {
            if (!isset($GLOBALS['harness_tables'][$this->table])) {
                throw new \RuntimeException("harness: table {$this->table} does not exist");
            }
            return $GLOBALS['harness_tables'][$this->table];
        }

        public function get($columns = null)
        {
            $out = array();
            foreach ($this->rows() as $row) {
                if ($this->matches($row)) {
                    $out[] = $row;
                }
            }
            foreach (array_reverse($this->orders) as $o) {
                usort($out, function ($a, $b) use ($o) {
                    $r = self::cmp(isset($a[$o[0]]) ? $a[$o[0]] : null, isset($b[$o[0]]) ? $b[$o[0]] : null);
                    return $o[1] === 'desc' ? -$r : $r;
                });
            }
            if ($this->limit !== null) {
                $out = array_slice($out, 0, $this->limit);
            }
            return array_map(function ($r) {
                return (object) $r;
            }, $out);
        }

        public function first()
        {
            $all = $this->get();
            return count($all) > 0 ? $all[0] : null;
        }

        public function value($column)
        {
            $row = $this->first();
            return $row && isset($row->$column) ? $row->$column : null;
        }

        public function count()
        {
            return count($this->get());
        }

        public function insert(array $row)
        {
            $rows = &$this->rows();
            $auto = isset($GLOBALS['harness_autoinc'][$this->table]) ? $GLOBALS['harness_autoinc'][$this->table] : null;
            if ($auto !== null && !isset($row[$auto])) {
                $max = 0;
                foreach ($rows as $r) {
                    $max = max($max, (int) $r[$auto]);
                }
                $row[$auto] = $max + 1;
            }
            $rows[] = $row;
            return true;
        }

        public function update(array $values)
        {
            $n = 0;
            $rows = &$this->rows();
            foreach ($rows as $i => $row) {
                if ($this->matches($row)) {
                    $rows[$i] = array_merge($row, $values);
                    $n++;
                }
            }
            return $n;
        }

        public function delete()
        {
            $keep = array();
            $n = 0;
            $rows = &$this->rows();
            foreach ($rows as $row) {
                if ($this->matches($row)) {
                    $n++;
                } else {
                    $keep[] = $row;
                }
            }
            $rows = $keep;
            return $n;
        }
    }

    class Blueprint
    {
        public $table;
        public function __construct($table)
        {
            $this->table = $table;
        }
        public function increments($column)
        {
            $GLOBALS['harness_autoinc'][$this->table] = $column;
            return $this;
        }
        public function __call($name, $args)
        {
            return $this;
        }
    }

    class Schema
    {
        public function hasTable($name)
        {
            return isset($GLOBALS['harness_tables'][$name]);
        }

        public function create($name, $define)
        {
            if (isset($GLOBALS['harness_tables'][$name])) {
                throw new \RuntimeException("harness: table $name already exists");
            }
            $define(new Blueprint($name));
            $GLOBALS['harness_tables'][$name] = array();
        }

        public function dropIfExists($name)
        {
            unset($GLOBALS['harness_tables'][$name]);
        }
    }

    class Capsule
    {
        public static function table($name)
        {
            return new Query($name);
        }

        public static function schema()
        {
            return new Schema();
        }
    }
}

namespace WHMCS\Authentication {
    class CurrentUser
    {
        public function admin()
        {
            return $GLOBALS['harness_admin'] > 0 ? (object) array('id' => $GLOBALS['harness_admin']) : null;
        }

        public function isMasqueradingAdmin()
        {
            return !empty($GLOBALS['harness_masquerade']);
        }

        public function client()
        {
            return $GLOBALS['harness_client'] > 0 ? (object) array('id' => $GLOBALS['harness_client']) : null;
        }
    }
}

namespace WHMCS\Module {
    abstract class AbstractWidget
    {
        protected $title = '';
        protected $description = '';
        protected $weight = 100;
        protected $columns = 1;
        protected $cache = false;
        protected $cacheExpiry = 0;
        protected $requiredPermission = '';
        abstract public function getData();
        abstract public function generateOutput($data);
        public function harnessTitle()
        {
            return $this->title;
        }
    }
}

namespace WHMCS\View\Menu {
    class Item
    {
        public $children = array();
        public function addChild($name, array $attributes = array())
        {
            $this->children[$name] = $attributes;
            return $this;
        }
    }
}

namespace {
    define('WHMCS', true);

    /** $vars as WHMCS passes them, refusing reads of keys the reference does not document. */
    class HarnessVars implements ArrayAccess
    {
        private $hook;
        private $data;
        private $allowed;
        private $nested;

        public function __construct($hook, array $data, array $allowed, array $nested)
        {
            $this->hook = $hook;
            $this->data = $data;
            $this->allowed = $allowed;
            $this->nested = $nested;
        }

        private function check($key)
        {
            if (!in_array((string) $key, $this->allowed, true)) {
                $GLOBALS['harness_violations'][] = "hook {$this->hook} reads \$vars key '$key', which the WHMCS hook reference does not document";
                return false;
            }
            return true;
        }

        #[\ReturnTypeWillChange]
        public function offsetExists($key)
        {
            return $this->check($key) && isset($this->data[$key]);
        }

        #[\ReturnTypeWillChange]
        public function offsetGet($key)
        {
            if (!$this->check($key) || !array_key_exists($key, $this->data)) {
                return null;
            }
            $v = $this->data[$key];
            if (is_array($v) && isset($this->nested[$key]) && $this->nested[$key] === 'moduleParameters') {
                return new HarnessVars($this->hook . '.' . $key, $v, $GLOBALS['harness_reference']['moduleParameters']['keys'], array());
            }
            return $v;
        }

        #[\ReturnTypeWillChange]
        public function offsetSet($key, $value)
        {
            $this->data[$key] = $value;
        }

        #[\ReturnTypeWillChange]
        public function offsetUnset($key)
        {
            unset($this->data[$key]);
        }
    }

    $GLOBALS['harness_hooks'] = array();
    $GLOBALS['harness_log'] = array();
    $GLOBALS['harness_violations'] = array();
    $GLOBALS['harness_admin'] = 0;
    $GLOBALS['harness_client'] = 0;
    $GLOBALS['harness_autoinc'] = array();
    $GLOBALS['harness_api'] = array();
    $GLOBALS['harness_fired'] = array();
    const HARNESS_CSRF = 'csrf-token-0123456789';

    function add_hook($name, $priority, $fn)
    {
        if (!isset($GLOBALS['harness_reference']['hooks'][$name])) {
            $GLOBALS['harness_violations'][] = "add_hook('$name'): not a hook of the WHMCS hook reference (testdata/hooks.json)";
        }
        $GLOBALS['harness_hooks'][$name][] = $fn;
    }

    function logActivity($message, $clientId = 0)
    {
        $GLOBALS['harness_log'][] = $message . ($clientId ? ' [client ' . (int) $clientId . ']' : '');
    }

    function generate_token($type = 'form')
    {
        return $type === 'plain' ? HARNESS_CSRF : '<input type="hidden" name="token" value="' . HARNESS_CSRF . '" />';
    }

    function check_token($namespace = 'WHMCS.default')
    {
        return isset($_POST['token']) && $_POST['token'] === HARNESS_CSRF;
    }

    function localAPI($command, $values = array(), $admin = '')
    {
        $GLOBALS['harness_api'][] = $command;
        switch ($command) {
            case 'EncryptPassword':
                return array('result' => 'success', 'password' => 'enc:' . base64_encode($values['password2']));
            case 'DecryptPassword':
                $v = (string) $values['password2'];
                if (strpos($v, 'enc:') !== 0) {
                    return array('result' => 'error', 'message' => 'not encrypted');
                }
                return array('result' => 'success', 'password' => base64_decode(substr($v, 4)));
        }
        return array('result' => 'error', 'message' => 'harness: API ' . $command . ' not simulated');
    }

    /** Runs every callback of a hook as WHMCS does and returns their results. */
    function harness_run_hook($name, $vars)
    {
        if (!isset($GLOBALS['harness_reference']['hooks'][$name])) {
            throw new RuntimeException("harness: scenario runs hook $name, which is not in hooks.json");
        }
        $ref = $GLOBALS['harness_reference']['hooks'][$name];
        if (!empty($GLOBALS['harness_hooks'][$name])) {
            $GLOBALS['harness_fired'][$name] = true;
        }
        $out = array();
        foreach (isset($GLOBALS['harness_hooks'][$name]) ? $GLOBALS['harness_hooks'][$name] : array() as $fn) {
            if (is_object($vars)) {
                $out[] = $fn($vars);
            } else {
                $out[] = $fn(new HarnessVars($name, $vars, $ref['vars'], isset($ref['nested']) ? $ref['nested'] : array()));
            }
        }
        return $out;
    }

    function harness_row($table, $id)
    {
        foreach ($GLOBALS['harness_tables'][$table] as $row) {
            if ((int) $row['id'] === (int) $id) {
                return $row;
            }
        }
        return null;
    }

    function harness_set($table, $id, array $values)
    {
        foreach ($GLOBALS['harness_tables'][$table] as $i => $row) {
            if ((int) $row['id'] === (int) $id) {
                $GLOBALS['harness_tables'][$table][$i] = array_merge($row, $values);
            }
        }
    }

    /** The module parameters WHMCS passes for a service. */
    function harness_params($serviceId)
    {
        $s = harness_row('tblhosting', $serviceId);
        $p = harness_row('tblproducts', $s['packageid']);
        return array('serviceid' => (int) $s['id'], 'userid' => (int) $s['userid'], 'pid' => (int) $s['packageid'],
            'serverid' => (int) $s['server'], 'domain' => (string) $s['domain'], 'moduletype' => $p ? (string) $p['servertype'] : '',
            'producttype' => 'server', 'username' => '', 'password' => 'secret-service-password');
    }

    /** WHMCS's Module Create: PreModuleCreate may abort it. */
    function harness_module_create($serviceId)
    {
        $s = harness_row('tblhosting', $serviceId);
        $p = harness_row('tblproducts', $s['packageid']);
        if (!$p || (string) $p['servertype'] === '') {
            return 'error: Service not assigned to a module';
        }
        foreach (harness_run_hook('PreModuleCreate', array('params' => harness_params($serviceId))) as $r) {
            if (is_array($r) && !empty($r['abortcmd'])) {
                return 'aborted';
            }
        }
        harness_set('tblhosting', $serviceId, array('domainstatus' => 'Active'));
        harness_run_hook('AfterModuleCreate', array('params' => harness_params($serviceId)));
        return 'created';
    }

    function harness_module_unsuspend($serviceId)
    {
        foreach (harness_run_hook('PreModuleUnsuspend', array('params' => harness_params($serviceId))) as $r) {
            if (is_array($r) && !empty($r['abortcmd'])) {
                return 'aborted';
            }
        }
        harness_set('tblhosting', $serviceId, array('domainstatus' => 'Active', 'suspendreason' => ''));
        harness_run_hook('AfterModuleUnsuspend', array('params' => harness_params($serviceId)));
        return 'unsuspended';
    }

    function harness_services_of_order($orderId)
    {
        $out = array();
        foreach ($GLOBALS['harness_tables']['tblhosting'] as $s) {
            if ((int) $s['orderid'] === (int) $orderId) {
                $out[] = (int) $s['id'];
            }
        }
        return $out;
    }

    /** Calls a function capturing what it echoes. */
    function harness_capture($fn)
    {
        ob_start();
        $ret = $fn();
        return array(ob_get_clean(), $ret);
    }

    /** Renders a client-area page the way WHMCS would: its template with its vars. */
    function harness_render_template($dir, array $page)
    {
        $tpl = file_get_contents($dir . '/' . $page['templatefile'] . '.tpl');
        return preg_replace_callback('/\{\$([a-zA-Z_][a-zA-Z0-9_]*)( nofilter)?\}/', function ($m) use ($page) {
            return isset($page['vars'][$m[1]]) ? (string) $page['vars'][$m[1]] : '';
        }, $tpl);
    }

    function harness_step(array $step, $dir)
    {
        $GLOBALS['harness_admin'] = isset($step['admin']) ? (int) $step['admin'] : 0;
        $GLOBALS['harness_client'] = isset($step['client']) ? (int) $step['client'] : 0;
        $GLOBALS['harness_masquerade'] = !empty($step['masquerade']);
        $_SESSION = isset($step['session']) ? $step['session'] : array();
        $_GET = isset($step['get']) ? $step['get'] : array();
        $_POST = isset($step['post']) ? $step['post'] : array();
        $_SERVER['REQUEST_METHOD'] = isset($step['method']) ? $step['method'] : 'GET';
        $do = $step['do'];
        switch ($do) {
            case 'hook':
                return harness_run_hook($step['hook'], $step['vars']);
            case 'checkout':
                // The cart completes: order, invoice and services exist; then
                // products set to "set up as soon as an order is placed" are created.
                $o = harness_row('tblorders', $step['order']);
                harness_run_hook('AfterShoppingCartCheckout', array('OrderID' => (int) $o['id'], 'OrderNumber' => 1000 + (int) $o['id'],
                    'ServiceIDs' => harness_services_of_order($o['id']), 'AddonIDs' => array(), 'DomainIDs' => array(),
                    'RenewalIDs' => array(), 'PaymentMethod' => 'banktransfer', 'InvoiceID' => (int) $o['invoiceid'], 'TotalDue' => 10.0));
                $created = array();
                foreach (harness_services_of_order($o['id']) as $sid) {
                    $p = harness_row('tblproducts', harness_row('tblhosting', $sid)['packageid']);
                    if ($p && $p['autosetup'] === 'order') {
                        $created[$sid] = harness_module_create($sid);
                    }
                }
                return $created;
            case 'pay':
                // The order's first invoice is paid: OrderPaid, then products set
                // to "set up when the first payment is received" are created.
                $o = harness_row('tblorders', $step['order']);
                harness_set('tblinvoices', $o['invoiceid'], array('status' => 'Paid'));
                harness_run_hook('OrderPaid', array('orderId' => (int) $o['id'], 'userId' => (int) $o['userid'], 'invoiceId' => (int) $o['invoiceid']));
                $created = array();
                foreach (harness_services_of_order($o['id']) as $sid) {
                    $p = harness_row('tblproducts', harness_row('tblhosting', $sid)['packageid']);
                    if ($p && $p['autosetup'] === 'payment') {
                        $created[$sid] = harness_module_create($sid);
                    }
                }
                return $created;
            case 'acceptOrder':
                // The accept-order screen or the AcceptOrder API: the hook runs
                // first, then with "Run Module Create" / autosetup each pending
                // service is created.
                harness_run_hook('AcceptOrder', array('orderid' => (int) $step['order']));
                harness_set('tblorders', $step['order'], array('status' => 'Active'));
                $created = array();
                if (!empty($step['autosetup'])) {
                    foreach (harness_services_of_order($step['order']) as $sid) {
                        if (harness_row('tblhosting', $sid)['domainstatus'] === 'Pending') {
                            $created[$sid] = harness_module_create($sid);
                        }
                    }
                }
                return $created;
            case 'cancelOrder':
            case 'fraudOrder':
                harness_run_hook($do === 'cancelOrder' ? 'CancelOrder' : 'FraudOrder', array('orderid' => (int) $step['order']));
                harness_set('tblorders', $step['order'], array('status' => $do === 'cancelOrder' ? 'Cancelled' : 'Fraud'));
                return null;
            case 'deleteOrder':
                harness_run_hook('DeleteOrder', array('orderid' => (int) $step['order']));
                $GLOBALS['harness_tables']['tblhosting'] = array_values(array_filter($GLOBALS['harness_tables']['tblhosting'], function ($s) use ($step) {
                    return (int) $s['orderid'] !== (int) $step['order'];
                }));
                $GLOBALS['harness_tables']['tblorders'] = array_values(array_filter($GLOBALS['harness_tables']['tblorders'], function ($o) use ($step) {
                    return (int) $o['id'] !== (int) $step['order'];
                }));
                return null;
            case 'moduleCreate':
                return harness_module_create($step['service']);
            case 'moduleSuspend':
                harness_set('tblhosting', $step['service'], array('domainstatus' => 'Suspended', 'suspendreason' => $step['reason']));
                return 'suspended';
            case 'moduleUnsuspend':
                return harness_module_unsuspend($step['service']);
            case 'moduleTerminate':
                harness_set('tblhosting', $step['service'], array('domainstatus' => 'Terminated'));
                harness_run_hook('AfterModuleTerminate', array('params' => harness_params($step['service'])));
                return 'terminated';
            case 'deleteService':
                $s = harness_row('tblhosting', $step['service']);
                $GLOBALS['harness_tables']['tblhosting'] = array_values(array_filter($GLOBALS['harness_tables']['tblhosting'], function ($r) use ($step) {
                    return (int) $r['id'] !== (int) $step['service'];
                }));
                harness_run_hook('ServiceDelete', array('userid' => (int) $s['userid'], 'clientId' => (int) $s['userid'], 'serviceid' => (int) $s['id']));
                return null;
            case 'adminEditService':
                harness_run_hook('PreAdminServiceEdit', array('serviceid' => (int) $step['service']));
                harness_set('tblhosting', $step['service'], $step['set']);
                $s = harness_row('tblhosting', $step['service']);
                harness_run_hook('AdminServiceEdit', array('userid' => (int) $s['userid'], 'serviceid' => (int) $s['id']));
                return null;
            case 'cron':
                harness_run_hook('AfterCronJob', array());
                return null;
            case 'due':
                foreach ($GLOBALS['harness_tables']['mod_kycgate_outbox'] as $i => $row) {
                    if ($row['next_attempt_at'] !== null) {
                        $GLOBALS['harness_tables']['mod_kycgate_outbox'][$i]['next_attempt_at'] = '2000-01-01 00:00:00';
                    }
                }
                return null;
            case 'activate':
                return kycgate_activate();
            case 'deactivate':
                return kycgate_deactivate();
            case 'upgrade':
                return kycgate_upgrade(array('version' => $step['from']));
            case 'config':
                return kycgate_config();
            case 'clientarea':
                $page = kycgate_clientarea(array('modulelink' => 'index.php?m=kycgate', '_lang' => array()));
                $page['html'] = harness_render_template($dir, $page);
                return $page;
            case 'homepage':
                $item = new \WHMCS\View\Menu\Item();
                harness_run_hook('ClientAreaHomepagePanels', $item);
                return (object) $item->children;
            case 'checkoutPage':
                return harness_run_hook('ShoppingCartCheckoutOutput', array('cartData' => $step['cartData']));
            case 'adminOutput':
                list($html) = harness_capture(function () {
                    kycgate_output(array('modulelink' => 'addonmodules.php?module=kycgate'));
                });
                return $html;
            case 'widget':
                $out = array();
                $GLOBALS['harness_fired']['AdminHomeWidgets'] = true;
                foreach (isset($GLOBALS['harness_hooks']['AdminHomeWidgets']) ? $GLOBALS['harness_hooks']['AdminHomeWidgets'] : array() as $fn) {
                    $w = $fn();
                    $out[] = array('class' => get_class($w), 'title' => $w->harnessTitle(), 'html' => $w->generateOutput($w->getData()));
                }
                return $out;
            case 'secret':
                kycgate_set_secret($step['name'], $step['value']);
                return null;
            case 'mintTampered':
                // A minted token whose claims were changed after signing.
                $parts = explode('.', kycgate_mint_signin_token($step['clientId'], ''));
                $claims = json_decode(base64_decode(strtr($parts[1], '-_', '+/')), true);
                $claims = array_merge($claims, $step['claims']);
                $parts[1] = kycgate_b64url(json_encode($claims, JSON_UNESCAPED_SLASHES));
                return implode('.', $parts);
            case 'mint':
                // The addon's own signing, for the cross-language tests.
                return kycgate_mint_signin_token($step['clientId'], isset($step['lang']) ? $step['lang'] : '');
            case 'signRaw':
                // The addon's signing function over chosen header and claims,
                // with the active key (or a fresh one): tampered tokens.
                $key = !empty($step['freshKey']) ? kycgate_generate_signin_key($step['freshKey']) : kycgate_signin_key('active');
                return kycgate_sign_jwt($step['header'] + array('alg' => $key['alg'], 'kid' => $key['kid'], 'typ' => 'JWT'), $step['claims'], $key);
            case 'keyConfig':
                return kycgate_key_config(array(kycgate_signin_key('active'), kycgate_signin_key('pending')));
            case 'generateKey':
                $key = kycgate_generate_signin_key($step['alg']);
                kycgate_store_signin_key($step['slot'], $key);
                return $key['kid'];
            case 'importKey':
                try {
                    $key = kycgate_import_signin_key($step['alg'], $step['private']);
                } catch (\Exception $e) {
                    return 'refused: ' . $e->getMessage();
                }
                kycgate_store_signin_key($step['slot'], $key);
                return $key['kid'];
        }
        throw new RuntimeException('harness: unknown step ' . $do);
    }

    $dir = $argv[1];
    $GLOBALS['harness_reference'] = json_decode(file_get_contents($argv[2]), true);
    $scenario = json_decode(file_get_contents($argv[3]), true);
    $GLOBALS['harness_tables'] = $scenario['tables'];
    $GLOBALS['harness_autoinc'] = isset($scenario['autoinc']) ? $scenario['autoinc'] : array();
    foreach ($GLOBALS['harness_tables'] as $name => $rows) {
        if (isset($rows[0]['id']) && !isset($GLOBALS['harness_autoinc'][$name])) {
            $GLOBALS['harness_autoinc'][$name] = 'id';
        }
    }
    require $dir . '/kycgate.php';
    if (!empty($scenario['activate'])) {
        $GLOBALS['harness_activation'] = kycgate_activate();
    }
    require $dir . '/hooks.php';
    $results = array();
    foreach ($scenario['steps'] as $i => $step) {
        $results[] = harness_step($step, $dir);
        kycgate_request_reset();
    }
    echo json_encode(array(
        'results' => $results,
        'tables' => $GLOBALS['harness_tables'],
        'autoinc' => (object) $GLOBALS['harness_autoinc'],
        'log' => $GLOBALS['harness_log'],
        'violations' => $GLOBALS['harness_violations'],
        'registered' => array_keys($GLOBALS['harness_hooks']),
        'fired' => array_keys($GLOBALS['harness_fired']),
        'activation' => isset($GLOBALS['harness_activation']) ? $GLOBALS['harness_activation'] : null,
    ), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    exit(count($GLOBALS['harness_violations']) > 0 ? 3 : 0);
}
