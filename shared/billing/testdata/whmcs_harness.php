<?php
// A stand-in for the parts of WHMCS the KYC gate's hook file uses (add_hook,
// logActivity, WHMCS\Database\Capsule over in-memory tables), to run
// docs/whmcs/kycgate_hooks.php in tests:
//
//   php whmcs_harness.php <hook file> <scenario.json>
//
// The scenario holds the tables and the steps: {"hook": name, "vars": {...}}
// fires a hook; {"due": true} makes every outbox row due now. The final
// outbox and activity log are printed as JSON.

namespace WHMCS\Database {
    class Query
    {
        private $table;
        private $wheres = array();
        private $limit = null;

        public function __construct($table)
        {
            $this->table = $table;
        }

        public function where($column, $op, $value = null)
        {
            if (func_num_args() === 2) {
                $value = $op;
                $op = '=';
            }
            $this->wheres[] = array($column, $op, $value);
            return $this;
        }

        public function whereNotNull($column)
        {
            $this->wheres[] = array($column, 'notnull', null);
            return $this;
        }

        public function orderBy($column)
        {
            return $this;
        }

        public function limit($n)
        {
            $this->limit = $n;
            return $this;
        }

        private function matches($row)
        {
            foreach ($this->wheres as $w) {
                list($c, $op, $v) = $w;
                $have = isset($row[$c]) ? $row[$c] : null;
                if ($op === '=' && (string) $have !== (string) $v) {
                    return false;
                }
                if ($op === '<=' && !($have !== null && strcmp((string) $have, (string) $v) <= 0)) {
                    return false;
                }
                if ($op === 'notnull' && $have === null) {
                    return false;
                }
            }
            return true;
        }

        public function get()
        {
            $out = array();
            foreach ($GLOBALS['kycgate_test_tables'][$this->table] ?? array() as $row) {
                if ($this->matches($row)) {
                    $out[] = (object) $row;
                }
            }
            if ($this->limit !== null) {
                $out = array_slice($out, 0, $this->limit);
            }
            return $out;
        }

        public function first()
        {
            $all = $this->get();
            return count($all) > 0 ? $all[0] : null;
        }

        public function insert(array $row)
        {
            $t = &$GLOBALS['kycgate_test_tables'][$this->table];
            $row['id'] = count($t ?? array()) + 1000;
            $t[] = $row;
            return true;
        }

        public function update(array $values)
        {
            foreach ($GLOBALS['kycgate_test_tables'][$this->table] as $i => $row) {
                if ($this->matches($row)) {
                    $GLOBALS['kycgate_test_tables'][$this->table][$i] = array_merge($row, $values);
                }
            }
            return 1;
        }

        public function delete()
        {
            $keep = array();
            foreach ($GLOBALS['kycgate_test_tables'][$this->table] as $row) {
                if (!$this->matches($row)) {
                    $keep[] = $row;
                }
            }
            $GLOBALS['kycgate_test_tables'][$this->table] = $keep;
            return 1;
        }
    }

    class Blueprint
    {
        public function __call($name, $args)
        {
            return $this;
        }
    }

    class Schema
    {
        public function hasTable($name)
        {
            return isset($GLOBALS['kycgate_test_tables'][$name]);
        }

        public function create($name, $define)
        {
            $define(new Blueprint());
            $GLOBALS['kycgate_test_tables'][$name] = array();
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

namespace {
    define('WHMCS', true);
    $GLOBALS['kycgate_test_hooks'] = array();
    $GLOBALS['kycgate_test_log'] = array();

    function add_hook($name, $priority, $fn)
    {
        $GLOBALS['kycgate_test_hooks'][$name][] = $fn;
    }

    function logActivity($message)
    {
        $GLOBALS['kycgate_test_log'][] = $message;
    }

    $scenario = json_decode(file_get_contents($argv[2]), true);
    $GLOBALS['kycgate_test_tables'] = $scenario['tables'];
    require $argv[1];
    foreach ($scenario['steps'] as $step) {
        if (!empty($step['due'])) {
            foreach ($GLOBALS['kycgate_test_tables']['mod_kycgate_outbox'] as $i => $row) {
                if ($row['next_attempt_at'] !== null) {
                    $GLOBALS['kycgate_test_tables']['mod_kycgate_outbox'][$i]['next_attempt_at'] = '2000-01-01 00:00:00';
                }
            }
            continue;
        }
        foreach ($GLOBALS['kycgate_test_hooks'][$step['hook']] ?? array() as $fn) {
            $fn($step['vars']);
        }
    }
    echo json_encode(array(
        'outbox' => $GLOBALS['kycgate_test_tables']['mod_kycgate_outbox'] ?? array(),
        'log' => $GLOBALS['kycgate_test_log'],
    ));
}
