/* test_config.c - CUnit suite for the configuration module (io/config.c,
 * io/toml_shim.cpp).  Messages are part of the interface (users fix their
 * config from them), so the tests check key names and line numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <CUnit/Basic.h>
#include "td_config.h"
#include "td_err.h"
#include "td_toml.h"
#include "unit_cunit.h"

/* Lines 1-4; sections appended by a test start on line 5. */
#define BASE "[data]\npath = \"/d.h5\"\n[output]\npath = \"/o.h5\"\n"

static td_err err;

static int parse(const char *text, td_config *cfg)
{
    td_err_clear(&err);
    return td_config_parse(text, "cfg.toml", cfg, &err);
}

/* Fails with the message printed, so a broken expectation is readable. */
static int has(const char *frag)
{
    if (strstr(err.msg, frag))
        return 1;
    fprintf(stderr, "\n  message \"%s\" lacks \"%s\"\n", err.msg, frag);
    return 0;
}

/* Parse `src_`, expect an input error whose message holds both fragments,
 * and expect the config to be left freed. */
#define EXPECT_ERR(src_, f1, f2)                                   \
    do {                                                           \
        td_config c_;                                              \
        CU_ASSERT_EQUAL(parse((src_), &c_), TD_ERR_INPUT);         \
        CU_ASSERT_EQUAL(err.code, TD_ERR_INPUT);                   \
        CU_ASSERT(has(f1));                                        \
        CU_ASSERT(has(f2));                                        \
        CU_ASSERT_PTR_NULL(c_.text);                               \
        CU_ASSERT_PTR_NULL(c_.data_path);                          \
        td_config_free(&c_);                                       \
    } while (0)

/* kappa = v is accepted at both ends of its range. */
#define EXPECT_OK_KAPPA(v)                                         \
    do {                                                           \
        td_config c_;                                              \
        CU_ASSERT_EQUAL(parse(BASE "[construction]\nkappa = " #v "\n", \
                              &c_), TD_OK);                        \
        CU_ASSERT_EQUAL(c_.kappa, v);                              \
        td_config_free(&c_);                                       \
    } while (0)

static void test_defaults(void)
{
    td_config c;
    CU_ASSERT_EQUAL_FATAL(parse(BASE, &c), TD_OK);
    CU_ASSERT_EQUAL(err.code, TD_OK);
    CU_ASSERT_STRING_EQUAL(c.source, "cfg.toml");
    CU_ASSERT_STRING_EQUAL(c.text, BASE);
    CU_ASSERT_STRING_EQUAL(c.data_path, "/d.h5");
    CU_ASSERT_STRING_EQUAL(c.output_path, "/o.h5");
    CU_ASSERT_STRING_EQUAL(c.x_dataset, "X");
    CU_ASSERT_STRING_EQUAL(c.y_dataset, "y");
    CU_ASSERT_EQUAL(c.kappa, 0.5);
    CU_ASSERT_PTR_NULL(c.order);
    CU_ASSERT_EQUAL(c.norder, 0);
    CU_ASSERT_EQUAL(c.on_inseparable, TD_INSEP_FAIL);
    CU_ASSERT_EQUAL(c.backtrack_budget, 1000);
    CU_ASSERT_EQUAL(c.base_point, TD_BASE_CONDITIONED);
    CU_ASSERT_EQUAL(c.overwrite, 0);
    CU_ASSERT_EQUAL(c.mode, TD_MODE_AUTO);
    CU_ASSERT_EQUAL(c.grow_rounds, 3);
    CU_ASSERT_EQUAL(c.margin_floor, 1e-4);
    CU_ASSERT_EQUAL(c.auto_budget, TD_AUTO_BUDGET);
    CU_ASSERT_EQUAL(c.forward, 0);
    CU_ASSERT_EQUAL(c.working_set, 256);
    CU_ASSERT_EQUAL(c.max_rounds, 50);
    CU_ASSERT_EQUAL(c.hull_tol, 1e-10);
    CU_ASSERT_EQUAL(c.gap, 1e-3);
    CU_ASSERT_EQUAL(c.fisher_warm_start, 1);
    CU_ASSERT_EQUAL(c.block_rows, 1024);
    CU_ASSERT_EQUAL(c.scalapack_threshold, 1024);
    CU_ASSERT_EQUAL(c.tolerance, 1e-8);
    td_config_free(&c);
    CU_ASSERT_PTR_NULL(c.text);
    td_config_free(&c);     /* documented as safe */
}

static const char *full =
    "# every key, none at its default\n"
    "[data]\n"
    "path = \"/data/in.h5\"\n"
    "x_dataset = \"features\"\n"
    "y_dataset = \"labels\"\n"
    "[output]\n"
    "path = \"/data/out.h5\"\n"
    "overwrite = true\n"
    "[construction]\n"
    "kappa = 0.25\n"
    "order = [3, -1, 7]\n"
    "on_inseparable = \"best_effort\"\n"
    "backtrack_budget = 0\n"
    "base_point = \"segment\"\n"
    "mode = \"pieces\"\n"
    "grow_rounds = 0\n"
    "margin_floor = 0.1\n"
    "auto_budget = 2.5\n"
    "[separator]\n"
    "working_set = 8\n"
    "max_rounds = 1\n"
    "hull_tol = 1e-7\n"
    "gap = 0.5\n"
    "fisher_warm_start = false\n"
    "[parallel]\n"
    "block_rows = 16777216\n"
    "scalapack_threshold = 1\n"
    "[verify]\n"
    "tolerance = 1e-6\n"
    "forward = \"structured\"\n";

static void test_all_keys(void)
{
    td_config c;
    CU_ASSERT_EQUAL_FATAL(parse(full, &c), TD_OK);
    CU_ASSERT_STRING_EQUAL(c.data_path, "/data/in.h5");
    CU_ASSERT_STRING_EQUAL(c.x_dataset, "features");
    CU_ASSERT_STRING_EQUAL(c.y_dataset, "labels");
    CU_ASSERT_STRING_EQUAL(c.output_path, "/data/out.h5");
    CU_ASSERT_EQUAL(c.kappa, 0.25);
    CU_ASSERT_EQUAL_FATAL(c.norder, 3);
    CU_ASSERT_EQUAL(c.order[0], 3);
    CU_ASSERT_EQUAL(c.order[1], -1);
    CU_ASSERT_EQUAL(c.order[2], 7);
    CU_ASSERT_EQUAL(c.on_inseparable, TD_INSEP_BEST_EFFORT);
    CU_ASSERT_EQUAL(c.backtrack_budget, 0);
    CU_ASSERT_EQUAL(c.base_point, TD_BASE_SEGMENT);
    CU_ASSERT_EQUAL(c.overwrite, 1);
    CU_ASSERT_EQUAL(c.mode, TD_MODE_PIECES);
    CU_ASSERT_EQUAL(c.grow_rounds, 0);
    CU_ASSERT_EQUAL(c.margin_floor, 0.1);
    CU_ASSERT_EQUAL(c.auto_budget, 2.5);
    CU_ASSERT_EQUAL(c.forward, 2);
    CU_ASSERT_EQUAL(c.working_set, 8);
    CU_ASSERT_EQUAL(c.max_rounds, 1);
    CU_ASSERT_EQUAL(c.hull_tol, 1e-7);
    CU_ASSERT_EQUAL(c.gap, 0.5);
    CU_ASSERT_EQUAL(c.fisher_warm_start, 0);
    CU_ASSERT_EQUAL(c.block_rows, 1 << 24);
    CU_ASSERT_EQUAL(c.scalapack_threshold, 1);
    CU_ASSERT_EQUAL(c.tolerance, 1e-6);
    td_config_free(&c);
}

/* Inline tables, dotted keys and an empty order are the same config. */
static void test_other_spellings(void)
{
    td_config c;
    CU_ASSERT_EQUAL_FATAL(parse("data = { path = \"/d.h5\", y_dataset = \"t\" }\n"
                                "output.path = \"/o.h5\"\n"
                                "[construction]\norder = []\n", &c), TD_OK);
    CU_ASSERT_STRING_EQUAL(c.data_path, "/d.h5");
    CU_ASSERT_STRING_EQUAL(c.y_dataset, "t");
    CU_ASSERT_STRING_EQUAL(c.output_path, "/o.h5");
    CU_ASSERT_EQUAL(c.norder, 0);
    CU_ASSERT_PTR_NULL(c.order);
    td_config_free(&c);
    /* empty known tables are fine */
    CU_ASSERT_EQUAL(parse(BASE "[verify]\n[construction]\n", &c), TD_OK);
    td_config_free(&c);
}

static void test_unknown_key(void)
{
    EXPECT_ERR("[data]\npath = \"/d.h5\"\npth = \"x\"\n[output]\npath = \"o\"\n",
               "cfg.toml:3: ", "unknown key 'data.pth'");
    EXPECT_ERR(BASE "kappa = 0.5\n", ":5: ", "unknown key 'output.kappa'");
    EXPECT_ERR("kappa = 0.5\n" BASE, "cfg.toml:1: ", "unknown key 'kappa'");
    /* document order, not key order: zeta comes first in the file */
    EXPECT_ERR(BASE "[verify]\nzeta = 1\nalpha = 2\n", ":6: ",
               "'verify.zeta'");
    /* a quoted key must not pass for the dotted one */
    EXPECT_ERR("\"data.path\" = \"/d.h5\"\n[output]\npath = \"/o.h5\"\n",
               ":1: ", "unknown key '\"data.path\"'");
}

static void test_unknown_table(void)
{
    EXPECT_ERR(BASE "[foo]\n", "cfg.toml:5: ", "unknown key 'foo'");
    EXPECT_ERR(BASE "\n[foo]\nbar = 1\n", ":7: ", "unknown key 'foo.bar'");
    EXPECT_ERR(BASE "[[runs]]\nx = 1\n", ":5: ", "unknown key 'runs'");
    EXPECT_ERR(BASE "[data.extra]\n", ":5: ", "unknown key 'data.extra'");
    /* an array of tables cannot pass for a known table */
    EXPECT_ERR("[[data]]\npath = \"/d.h5\"\n[output]\npath = \"/o.h5\"\n",
               ":1: ", "'data' must be a table");
}

static void test_wrong_type(void)
{
    EXPECT_ERR("[data]\npath = 3\n[output]\npath = \"/o.h5\"\n",
               "cfg.toml:2: ", "key 'data.path' must be a string");
    EXPECT_ERR(BASE "[separator]\nworking_set = \"big\"\n", ":6: ",
               "key 'separator.working_set' must be an integer");
    EXPECT_ERR(BASE "[construction]\nkappa = \"half\"\n", ":6: ",
               "key 'construction.kappa' must be a number");
    EXPECT_ERR(BASE "[construction]\norder = [1, \"a\"]\n", ":6: ",
               "key 'construction.order' must be an array of integers");
    EXPECT_ERR(BASE "[construction]\norder = [1.0, 2.0]\n", ":6: ",
               "must be an array of integers");
    EXPECT_ERR(BASE "[construction]\norder = 3\n", ":6: ",
               "must be an array of integers");
    EXPECT_ERR(BASE "[verify]\ntolerance = true\n", ":6: ",
               "key 'verify.tolerance' must be a number, got a boolean");
    EXPECT_ERR(BASE "[construction]\non_inseparable = 1\n", ":6: ",
               "must be a string");
    EXPECT_ERR(BASE "[construction]\non_inseparable = \"maybe\"\n", ":6: ",
               "must be \"fail\" or \"best_effort\", got \"maybe\"");
}

static void test_kappa_range(void)
{
    EXPECT_ERR(BASE "[construction]\nkappa = 1.5\n", "cfg.toml:6: ",
               "key 'construction.kappa' must be in [1e-4, 0.999] (a smaller "
               "kappa makes ill-conditioned layers");
    EXPECT_ERR(BASE "[construction]\nkappa = 1\n", ":6: ", "got 1");
    EXPECT_ERR(BASE "[construction]\nkappa = 0.0\n", ":6: ", "got 0");
    EXPECT_ERR(BASE "[construction]\nkappa = 1.0000000000001\n", ":6: ",
               "got 1.0000000000001");
    EXPECT_ERR(BASE "[construction]\nkappa = nan\n", ":6: ", "must be in [1e-4, 0.999]");
    /* inside (0, 1) but beyond what double precision allows */
    EXPECT_ERR(BASE "[construction]\nkappa = 1e-6\n", ":6: ", "got 1e-06");
    EXPECT_ERR(BASE "[construction]\nkappa = 0.9999999999999999\n", ":6: ",
               "got 0.9999999999999999");
    EXPECT_OK_KAPPA(1e-4);
    EXPECT_OK_KAPPA(0.999);
    EXPECT_ERR(BASE "[verify]\ntolerance = inf\n", ":6: ",
               "'verify.tolerance' must be finite and > 0");
    EXPECT_ERR(BASE "[verify]\ntolerance = 0\n", ":6: ", "got 0");
}

static void test_other_ranges(void)
{
    EXPECT_ERR(BASE "[separator]\nworking_set = 7\n", ":6: ",
               "'separator.working_set' must be >= 8, got 7");
    EXPECT_ERR(BASE "[separator]\nmax_rounds = 0\n", ":6: ", "must be >= 1");
    EXPECT_ERR(BASE "[construction]\nbase_point = \"far\"\n", ":6: ",
               "'construction.base_point' must be \"conditioned\" or \"segment\"");
    EXPECT_ERR(BASE "[separator]\nfisher_warm_start = 1\n", ":6: ",
               "'separator.fisher_warm_start' must be a boolean, got an integer");
    EXPECT_ERR(BASE "[separator]\nhull_tol = 0.1\n", ":6: ",
               "'separator.hull_tol' must be in (0, 1e-6], got 0.1");
    EXPECT_ERR(BASE "[separator]\ngap = 0\n", ":6: ",
               "'separator.gap' must be in (0, 0.5], got 0");
    EXPECT_ERR(BASE "[separator]\ngap = 0.6\n", ":6: ",
               "'separator.gap' must be in (0, 0.5], got 0.6");
    EXPECT_ERR(BASE "[separator]\ngap = \"tight\"\n", ":6: ",
               "'separator.gap' must be a number");
    EXPECT_ERR(BASE "[parallel]\nblock_rows = 16777217\n", ":6: ",
               "must be in [1, 16777216], got 16777217");
    EXPECT_ERR(BASE "[parallel]\nscalapack_threshold = 0\n", ":6: ",
               "must be >= 1, got 0");
    EXPECT_ERR("[data]\npath = \"/d.h5\"\n[output]\npath = \"/o.h5\"\n"
               "overwrite = \"yes\"\n", ":5: ",
               "'output.overwrite' must be a boolean");
    EXPECT_ERR(BASE "[construction]\nmode = \"deep\"\n", ":6: ",
               "'construction.mode' must be \"auto\", \"theorem6\", "
               "\"lifted\", \"pieces\", \"polytope\" or \"clustered\", got \"deep\"");
    EXPECT_ERR(BASE "[construction]\noutput_layer = \"softmax\"\n", ":6: ",
               "'construction.output_layer' must be \"affine\", \"linear\" "
               "or \"neural_collapse\", got \"softmax\"");
    EXPECT_ERR(BASE "[construction]\nmode = 3\n", ":6: ",
               "'construction.mode' must be a string");
    EXPECT_ERR(BASE "[construction]\ngrow_rounds = -1\n", ":6: ",
               "must be in [0, 1000], got -1");
    EXPECT_ERR(BASE "[construction]\nmargin_floor = 0.2\n", ":6: ",
               "'construction.margin_floor' must be in (0, 0.1], got 0.2");
    EXPECT_ERR(BASE "[construction]\nauto_budget = 0\n", ":6: ",
               "'construction.auto_budget' must be finite and > 0, got 0");
    EXPECT_ERR(BASE "[verify]\nforward = \"sparse\"\n", ":6: ",
               "'verify.forward' must be \"auto\", \"dense\" or "
               "\"structured\", got \"sparse\"");
    EXPECT_ERR(BASE "[construction]\nbacktrack_budget = -1\n", ":6: ",
               "must be >= 0, got -1");
    EXPECT_ERR(BASE "[construction]\nbacktrack_budget = 4294967296\n", ":6: ",
               "must be in [0, 2147483647]");
}

static void test_duplicate_order(void)
{
    EXPECT_ERR(BASE "[construction]\n\norder = [4, 2, 9, 2]\n", "cfg.toml:7: ",
               "key 'construction.order' lists label 2 more than once");
}

static void test_syntax_error(void)
{
    EXPECT_ERR(BASE "\n[construction\nkappa = 0.5\n", "cfg.toml:6:", "");
    EXPECT_ERR(BASE "[verify]\ntolerance = \n", "cfg.toml:6:", "");
    /* TOML itself forbids redefining a key */
    EXPECT_ERR(BASE "[verify]\ntolerance = 1\ntolerance = 2\n",
               "cfg.toml:7:", "");
    /* "\u0000" would silently truncate the C string */
    EXPECT_ERR(BASE "[data]\n", "cfg.toml:5:", "");
    EXPECT_ERR("[data]\npath = \"/d\\u0000.h5\"\n[output]\npath = \"/o\"\n",
               "cfg.toml:2:", "NUL");
}

static void test_missing_required(void)
{
    EXPECT_ERR("[output]\npath = \"/o.h5\"\n",
               "cfg.toml: missing required key 'data.path'", "");
    EXPECT_ERR("[data]\npath = \"/d.h5\"\n",
               "cfg.toml: missing required key 'output.path'", "");
    EXPECT_ERR("", "missing required key 'data.path'", "");
    EXPECT_ERR("[data]\n[output]\npath = \"/o.h5\"\n",
               "missing required key 'data.path'", "");
}

static void test_empty_string(void)
{
    EXPECT_ERR("[data]\npath = \"\"\n[output]\npath = \"/o.h5\"\n",
               "cfg.toml:2: ", "key 'data.path' must not be empty");
    EXPECT_ERR("[data]\npath = \"/d\"\nx_dataset = ''\n[output]\npath = \"/o\"\n",
               ":3: ", "'data.x_dataset' must not be empty");
    EXPECT_ERR("[data]\npath = \"/d\"\n[output]\npath = ''\n",
               ":4: ", "'output.path' must not be empty");
}

static void check_paths(const char *source, const char *data, const char *out)
{
    td_config c;
    td_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(td_config_parse("[data]\npath = \"in/d.h5\"\n"
                                          "[output]\npath = \"/abs/o.h5\"\n",
                                          source, &c, &err), TD_OK);
    CU_ASSERT_STRING_EQUAL(c.source, source);
    CU_ASSERT_STRING_EQUAL(c.data_path, data);
    CU_ASSERT_STRING_EQUAL(c.output_path, out);
    td_config_free(&c);
}

static void test_relative_paths(void)
{
    check_paths("/runs/a/cfg.toml", "/runs/a/in/d.h5", "/abs/o.h5");
    check_paths("runs/a/cfg.toml", "runs/a/in/d.h5", "/abs/o.h5");
    check_paths("/cfg.toml", "/in/d.h5", "/abs/o.h5");
    check_paths("cfg.toml", "in/d.h5", "/abs/o.h5");
    check_paths("<string>", "in/d.h5", "/abs/o.h5");
}

static void test_int_for_float(void)
{
    td_config c;
    CU_ASSERT_EQUAL_FATAL(parse(BASE "[verify]\ntolerance = 2\n", &c), TD_OK);
    CU_ASSERT_EQUAL(c.tolerance, 2.0);
    td_config_free(&c);
}

static void test_float_for_int(void)
{
    EXPECT_ERR(BASE "[separator]\nworking_set = 256.0\n", "cfg.toml:6: ",
               "key 'separator.working_set' must be an integer, got a float");
    EXPECT_ERR(BASE "[parallel]\nblock_rows = 1e3\n", ":6: ",
               "'parallel.block_rows' must be an integer");
}

/* Every rank parses the same bytes and must agree exactly. */
static void test_deterministic(void)
{
    td_config a, b;
    CU_ASSERT_EQUAL_FATAL(parse(full, &a), TD_OK);
    CU_ASSERT_EQUAL_FATAL(parse(full, &b), TD_OK);
    CU_ASSERT_STRING_EQUAL(a.text, b.text);
    CU_ASSERT_EQUAL(a.kappa, b.kappa);
    CU_ASSERT_EQUAL(memcmp(a.order, b.order, 3 * sizeof *a.order), 0);
    td_config_free(&a);
    td_config_free(&b);
}

/* The shim on its own: document order, lines, array element types. */
static void test_toml_shim(void)
{
    td_toml_doc d;
    char msg[256];
    CU_ASSERT_EQUAL_FATAL(td_toml_parse("z = 1\n[t]\nb = [1, 2]\na = [1, 'x']\n"
                                        "s = ['p', 'q']\n[e]\n", "s.toml",
                                        &d, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL_FATAL(d.n, 5);
    CU_ASSERT_STRING_EQUAL(d.e[0].path, "z");
    CU_ASSERT_EQUAL(d.e[0].type, TD_TOML_INT);
    CU_ASSERT_EQUAL(d.e[0].f, 1.0);
    CU_ASSERT_STRING_EQUAL(d.e[1].path, "t.b");
    CU_ASSERT_EQUAL(d.e[1].line, 3);
    CU_ASSERT_EQUAL(d.e[1].elem_type, TD_TOML_INT);
    CU_ASSERT_EQUAL(d.e[1].ints[1], 2);
    CU_ASSERT_EQUAL(d.e[1].floats[1], 2.0);
    CU_ASSERT_STRING_EQUAL(d.e[2].path, "t.a");
    CU_ASSERT_EQUAL(d.e[2].elem_type, TD_TOML_OTHER);
    CU_ASSERT_EQUAL(d.e[3].elem_type, TD_TOML_STRING);
    CU_ASSERT_STRING_EQUAL(d.e[3].strs[1], "q");
    CU_ASSERT_STRING_EQUAL(d.e[4].path, "e");
    CU_ASSERT_EQUAL(d.e[4].type, TD_TOML_TABLE);
    CU_ASSERT_EQUAL(d.e[4].line, 6);
    td_toml_free(&d);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_NOT_EQUAL(td_toml_parse("a = \n", "s.toml", &d, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(strncmp(msg, "s.toml:1:", 9), 0);
    CU_ASSERT_EQUAL(d.n, 0);
}

/* Arrays of arrays: rows are entries of their own (line, path); integers
 * and floats together are numbers. */
static void test_toml_nested(void)
{
    td_toml_doc d;
    char msg[256];
    CU_ASSERT_EQUAL_FATAL(td_toml_parse("t = [[1, 2.5],\n     [3, 4]]\n"
                                        "n = [1, 2.5]\nm = [[1], 'x']\n",
                                        "s.toml", &d, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL_FATAL(d.n, 3);
    CU_ASSERT_EQUAL(d.e[0].elem_type, TD_TOML_ARRAY);
    CU_ASSERT_EQUAL_FATAL(d.e[0].n, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.e[0].rows);
    CU_ASSERT_EQUAL(d.e[0].rows[0].elem_type, TD_TOML_FLOAT);
    CU_ASSERT_EQUAL(d.e[0].rows[0].floats[0], 1.0);
    CU_ASSERT_EQUAL(d.e[0].rows[0].floats[1], 2.5);
    CU_ASSERT_EQUAL(d.e[0].rows[1].elem_type, TD_TOML_INT);
    CU_ASSERT_EQUAL(d.e[0].rows[1].floats[1], 4.0);
    CU_ASSERT_EQUAL(d.e[0].rows[1].line, 2);
    CU_ASSERT_STRING_EQUAL(d.e[0].rows[1].path, "t[1]");
    CU_ASSERT_EQUAL(d.e[1].elem_type, TD_TOML_FLOAT);
    CU_ASSERT_EQUAL(d.e[1].floats[1], 2.5);
    CU_ASSERT_EQUAL(d.e[2].elem_type, TD_TOML_OTHER);
    CU_ASSERT_PTR_NULL(d.e[2].rows);
    td_toml_free(&d);
}

/* construction.targets and data.targets_dataset: values, shape and the
 * errors that need no data (the rest: td_targets_check, test_core). */
static void test_targets(void)
{
    td_config c;
    CU_ASSERT_EQUAL_FATAL(parse(BASE "[construction]\ntargets = [[1, 0.5], "
                                "[-2, 3]]\n", &c), TD_OK);
    CU_ASSERT_EQUAL(c.targets_rows, 2);
    CU_ASSERT_EQUAL(c.targets_cols, 2);
    CU_ASSERT_EQUAL(c.targets_line, 6);
    CU_ASSERT_EQUAL(c.targets[1], 0.5);
    CU_ASSERT_EQUAL(c.targets[2], -2.0);
    CU_ASSERT_PTR_NULL(c.targets_dataset);
    td_config_free(&c);
    CU_ASSERT_EQUAL_FATAL(parse("[data]\npath = \"/d.h5\"\ntargets_dataset"
                                " = \"T\"\n[output]\npath = \"/o.h5\"\n",
                                &c), TD_OK);
    CU_ASSERT_STRING_EQUAL(c.targets_dataset, "T");
    CU_ASSERT_PTR_NULL(c.targets);
    td_config_free(&c);
    EXPECT_ERR(BASE "[construction]\ntargets = [1, 2]\n", "cfg.toml:6: ",
               "'construction.targets' must be an array of arrays of numbers");
    EXPECT_ERR(BASE "[construction]\ntargets = []\n", ":6: ",
               "got an empty array");
    EXPECT_ERR(BASE "[construction]\ntargets = \"eye\"\n", ":6: ",
               "got a string");
    EXPECT_ERR(BASE "[construction]\ntargets = [[1, 0],\n[0, 1, 2]]\n",
               "cfg.toml:7: ", "row 1 has 3 numbers, row 0 has 2 (ragged)");
    EXPECT_ERR(BASE "[construction]\ntargets = [[1, 0], [\"a\", 1]]\n",
               ":6: ", "row 1 must hold numbers, got values that are not");
    EXPECT_ERR(BASE "[construction]\ntargets = [[1, 0], []]\n", ":6: ",
               "row 1 must hold numbers, got an empty array");
    EXPECT_ERR(BASE "[construction]\ntargets = [[[1]], [[0]]]\n", ":6: ",
               "row 0 must hold numbers, got arrays");
    EXPECT_ERR(BASE "[construction]\ntargets = [[1, nan], [0, 1]]\n", ":6: ",
               "row 0 element 1 is nan; targets must be finite");
    EXPECT_ERR(BASE "[construction]\ntargets = [[1, 0], [-inf, 1]]\n", ":6: ",
               "row 1 element 0 is -inf");
    EXPECT_ERR("[data]\npath = \"/d.h5\"\ntargets_dataset = \"T\"\n"
               "[output]\npath = \"/o.h5\"\n[construction]\n"
               "targets = [[1, 0], [0, 1]]\n", "cfg.toml:7: ",
               "keys 'data.targets_dataset' (line 3) and "
               "'construction.targets' (line 7) both give");
    EXPECT_ERR("[data]\npath = \"/d.h5\"\ntargets_dataset = \"\"\n"
               "[output]\npath = \"/o.h5\"\n", ":3: ", "must not be empty");
}

/* --- td_read_text_file ------------------------------------------------ */

static char tmpdir[64];

static char *write_tmp(const char *name, const char *bytes, size_t n)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    if (n)
        fwrite(bytes, 1, n, f);
    fclose(f);
    return path;
}

static void test_read_file(void)
{
    char *text = NULL;
    char *p = write_tmp("ok.toml", BASE, strlen(BASE));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_read_text_file(p, &text, &err), TD_OK);
    CU_ASSERT_STRING_EQUAL(text, BASE);
    free(text);

    p = write_tmp("empty.toml", "", 0);
    CU_ASSERT_EQUAL(td_read_text_file(p, &text, &err), TD_OK);
    CU_ASSERT_STRING_EQUAL(text, "");
    free(text);
}

static void test_read_file_errors(void)
{
    char *text = (char *)"sentinel";
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_read_text_file("/nonexistent/x.toml", &text, &err),
                    TD_ERR_INPUT);
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT(has("cannot read config '/nonexistent/x.toml': "));
    CU_ASSERT(has("No such file"));

    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_read_text_file(tmpdir, &text, &err), TD_ERR_INPUT);
    CU_ASSERT(has("cannot read config"));

    char *p = write_tmp("nul.toml", "a = 1\n\0b", 8);
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_read_text_file(p, &text, &err), TD_ERR_INPUT);
    CU_ASSERT(has("NUL byte at offset 6"));

    size_t big = ((size_t)1 << 20) + 1;
    char *buf = malloc(big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    memset(buf, '#', big);
    p = write_tmp("big.toml", buf, big);
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_read_text_file(p, &text, &err), TD_ERR_INPUT);
    CU_ASSERT(has("larger than 1 MiB"));
    p = write_tmp("limit.toml", buf, big - 1);   /* exactly 1 MiB is fine */
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_read_text_file(p, &text, &err), TD_OK);
    free(text);
    free(buf);
}

static int suite_init(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/td_test_config_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int suite_clean(void)
{
    static const char *names[] = {"ok.toml", "empty.toml", "nul.toml",
                                  "big.toml", "limit.toml"};
    char path[128];
    for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[j]);
        unlink(path);
    }
    return rmdir(tmpdir) == 0 ? 0 : -1;
}

int main(void)
{
    static const unit_test tests[] = {
        {"defaults", test_defaults},
        {"all keys", test_all_keys},
        {"other spellings", test_other_spellings},
        {"unknown key", test_unknown_key},
        {"unknown table", test_unknown_table},
        {"wrong type", test_wrong_type},
        {"kappa range", test_kappa_range},
        {"other ranges", test_other_ranges},
        {"duplicate order", test_duplicate_order},
        {"syntax error", test_syntax_error},
        {"missing required", test_missing_required},
        {"empty string", test_empty_string},
        {"relative paths", test_relative_paths},
        {"int for float", test_int_for_float},
        {"float for int", test_float_for_int},
        {"deterministic", test_deterministic},
        {"toml shim", test_toml_shim},
        {"toml nested arrays", test_toml_nested},
        {"targets", test_targets},
        {"read file", test_read_file},
        {"read file errors", test_read_file_errors},
    };
    int failed = unit_run("config", suite_init, suite_clean, tests,
                          sizeof tests / sizeof tests[0]);
    return failed;
}
