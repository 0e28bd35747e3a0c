/* test_convert.c - the converter's parts (td_convert.h) without MPI:
 * format detection from file names, exact integer labels, the line reader
 * (CRLF, a missing last newline, lines longer than its first buffer, gzip),
 * and td_convert on small CSV and LIBSVM texts for the header rule, the
 * delimiter, --label-column and the line numbers in errors (the e2e test
 * e2e_convert covers every format against NumPy). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "td_convert.h"
#include "unit_cunit.h"

static char dir[] = "/tmp/td_test_convert_XXXXXX";

static const char *file(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void put(const char *name, const char *text)
{
    FILE *f = fopen(file(name), "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_format(void)
{
    static const struct {
        const char *name;
        td_format f;
        int gz;
    } cases[] = {
        {"a.csv", TD_FMT_CSV, 0}, {"dir.x/A.CSV.gz", TD_FMT_CSV, 1},
        {"x.npy", TD_FMT_NPY, 0}, {"x.npy.gz", TD_FMT_NPY, 1},
        {"x.npz", TD_FMT_NPZ, 0}, {"a.svm", TD_FMT_SVM, 0},
        {"a.libsvm.gz", TD_FMT_SVM, 1}, {"a9a.txt", TD_FMT_SVM, 0},
        {"train-images-idx3-ubyte", TD_FMT_IDX, 0},
        {"t10k-labels-idx1-ubyte.gz", TD_FMT_IDX, 1},
        {"images.idx3", TD_FMT_IDX, 0}, {"x.idx2-0b", TD_FMT_IDX, 0},
        {"data.dat", TD_FMT_UNKNOWN, 0}, {"idx3", TD_FMT_UNKNOWN, 0},
        {"a.idx", TD_FMT_UNKNOWN, 0}, {"csv", TD_FMT_UNKNOWN, 0},
        {"a.gz", TD_FMT_UNKNOWN, 1}, {"a.csv/b", TD_FMT_UNKNOWN, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int gz = -1;
        td_format f = td_convert_format(cases[i].name, &gz);
        if (f != cases[i].f || gz != cases[i].gz)
            fprintf(stderr, "\n%s: format %d gz %d\n", cases[i].name, f, gz);
        CU_ASSERT_EQUAL(f, cases[i].f);
        CU_ASSERT_EQUAL(gz, cases[i].gz);
    }
}

static void test_labels(void)
{
    int64_t y = 0;
    CU_ASSERT_EQUAL(td_cv_label_from_double(3.0, &y), 0);
    CU_ASSERT_EQUAL(y, 3);
    CU_ASSERT_EQUAL(td_cv_label_from_double(-9007199254740992.0, &y), 0);
    CU_ASSERT_EQUAL(y, -9007199254740992LL);
    CU_ASSERT_NOT_EQUAL(td_cv_label_from_double(9007199254740994.0, &y), 0);
    CU_ASSERT_NOT_EQUAL(td_cv_label_from_double(0.5, &y), 0);
    CU_ASSERT_NOT_EQUAL(td_cv_label_from_double(0.0 / 0.0, &y), 0);
    CU_ASSERT_NOT_EQUAL(td_cv_label_from_double(1.0 / 0.0, &y), 0);
}

/* The same lines plain and gzipped. */
static void test_getline(void)
{
    size_t longn = 200000;
    char *text = malloc(longn + 64);
    strcpy(text, "a,b\r\n\nccc");
    memset(text + 9, 'x', longn);
    strcpy(text + 9 + longn, "\nlast");
    put("lines.txt", text);
    gzFile g = gzopen(file("lines.txt.gz"), "wb");
    gzputs(g, text);
    gzclose(g);
    const char *names[] = {"lines.txt", "lines.txt.gz"};
    for (int k = 0; k < 2; k++) {
        td_cv_stream s;
        td_err err;
        td_err_clear(&err);
        CU_ASSERT_EQUAL_FATAL(td_cv_open(&s, file(names[k]), &err), TD_OK);
        CU_ASSERT_EQUAL(s.seekable, k == 0);
        char *buf = NULL;
        size_t cap = 0, len = 0;
        CU_ASSERT_EQUAL(td_cv_getline(&s, &buf, &cap, &len, &err), 1);
        CU_ASSERT_STRING_EQUAL(buf, "a,b");
        CU_ASSERT_EQUAL(td_cv_getline(&s, &buf, &cap, &len, &err), 1);
        CU_ASSERT_EQUAL(len, 0);
        CU_ASSERT_EQUAL(td_cv_getline(&s, &buf, &cap, &len, &err), 1);
        CU_ASSERT_EQUAL(len, 3 + longn);
        CU_ASSERT_EQUAL(buf[len - 1], 'x');
        CU_ASSERT_EQUAL(td_cv_getline(&s, &buf, &cap, &len, &err), 1);
        CU_ASSERT_STRING_EQUAL(buf, "last");
        CU_ASSERT_EQUAL(td_cv_getline(&s, &buf, &cap, &len, &err), 0);
        CU_ASSERT_EQUAL(err.code, TD_OK);
        free(buf);
        td_cv_close(&s);
    }
    free(text);
}

/* Convert `text` saved as `name`; returns the code, the message in msg. */
static int convert(const char *name, const char *text, long labcol,
                   td_convert_stats *st, char *msg)
{
    put(name, text);
    td_convert_opts o = {file(name), file("out.h5"), NULL, labcol != 99,
                         labcol, 1};
    td_err err;
    td_err_clear(&err);
    td_convert(&o, st, &err);
    strcpy(msg, err.msg);
    if (err.code)
        CU_ASSERT_NOT_EQUAL(access(file("out.h5"), F_OK), 0);
    unlink(file("out.h5"));
    return err.code;
}

static void test_csv(void)
{
    td_convert_stats st;
    char msg[TD_ERR_MSG_LEN];
    /* a header shorter than the rows (scikit-learn's files) */
    CU_ASSERT_EQUAL(convert("a.csv", "150,4,setosa,versicolor\n1,2,3,4,0\n"
                            "5,6,7,8,1\n", 99, &st, msg), TD_OK);
    CU_ASSERT_EQUAL(st.n, 2);
    CU_ASSERT_EQUAL(st.m, 4);
    CU_ASSERT_EQUAL(st.classes, 2);
    /* only the label column non-numeric: data, so a bad label on line 1 */
    CU_ASSERT_EQUAL(convert("b.csv", "1,2,y\n3,4,0\n", 99, &st, msg),
                    TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "line 1, column 2: non-integer "
                                       "label 'y'"));
    /* ... the same row with the label first is a header */
    CU_ASSERT_EQUAL(convert("c.csv", "1,2,y\n3,4,0\n", 0, &st, msg),
                    TD_OK);
    CU_ASSERT_EQUAL(st.n, 1);
    /* tabs win over the commas inside quotes; blank lines counted */
    CU_ASSERT_EQUAL(convert("d.csv", "\"a,b\"\tc\ty\n\n1\t2\t3\n1\t2\n", 99,
                            &st, msg), TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "line 4: 2 columns, expected 3 (as "
                                       "on line 3; tab-separated)"));
    /* semicolons, quoted numbers, spaces, label in the middle (-2) */
    CU_ASSERT_EQUAL(convert("e.csv", "\"1.5\" ; 7 ; 2e3\n-1;8;4\n", -2, &st,
                            msg), TD_OK);
    CU_ASSERT_EQUAL(st.m, 2);
    CU_ASSERT_EQUAL(st.label_min, 7);
    CU_ASSERT_EQUAL(st.label_max, 8);
    CU_ASSERT_EQUAL(convert("f.csv", "1\n2\n", 99, &st, msg), TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "line 1: 1 column"));
    CU_ASSERT_EQUAL(convert("g.csv", "a,b,c\n", 99, &st, msg), TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no data rows"));
    CU_ASSERT_EQUAL(convert("h.csv", "1,2,99999999999999999999\n", 99, &st,
                            msg), TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "label out of int64 range"));
    CU_ASSERT_EQUAL(convert("i.csv", "1,1e999,0\n", 99, &st, msg),
                    TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "line 1, column 1: number out of "
                                       "double range"));
}

static void test_svm(void)
{
    td_convert_stats st;
    char msg[TD_ERR_MSG_LEN];
    CU_ASSERT_EQUAL(convert("a.svm", "# head\n+1 qid:3 7:1.5 2:1 # c\n\n-1\n",
                            99, &st, msg), TD_OK);
    CU_ASSERT_EQUAL(st.n, 2);
    CU_ASSERT_EQUAL(st.m, 7);
    CU_ASSERT_EQUAL(convert("b.svm", "1 1:1\n1 x:1\n", 99, &st, msg),
                    TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "line 2: malformed index 'x'"));
    CU_ASSERT_EQUAL(convert("c.svm", "1 1:1\n1 3\n", 99, &st, msg),
                    TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "line 2: malformed feature '3'"));
    CU_ASSERT_EQUAL(convert("d.svm", "1\n-1\n", 99, &st, msg), TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no features"));
    CU_ASSERT_EQUAL(convert("e.svm", "1 -4:1\n", 99, &st, msg),
                    TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "line 1: index -4 is not positive"));
}

static void test_options(void)
{
    td_convert_stats st;
    td_err err;
    put("o.csv", "1,2,0\n");
    put("o.svm", "1 1:2\n");
    td_convert_opts a = {file("o.svm"), file("o.h5"), NULL, 1, 0, 0};
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_convert(&a, &st, &err), TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--label-column is for CSV"));
    td_convert_opts b = {file("o.csv"), file("o.h5"), file("o.svm"), 0, 0, 0};
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_convert(&b, &st, &err), TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--labels is for IDX and NumPy"));
    td_convert_opts c = {file("o.npz.gz"), file("o.h5"), NULL, 0, 0, 0};
    put("o.npz.gz", "x");
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_convert(&c, &st, &err), TD_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gunzip it first"));
    CU_ASSERT_NOT_EQUAL(access(file("o.h5"), F_OK), 0);
}

int main(void)
{
    static const unit_test tests[] = {
        {"format from the file name", test_format},
        {"exact integer labels", test_labels},
        {"line reader: CRLF, long lines, no last newline, gzip",
         test_getline},
        {"CSV: header rule, delimiters, label column, errors", test_csv},
        {"LIBSVM: qid, comments, M, errors", test_svm},
        {"options that do not fit the format", test_options},
    };
    if (!mkdtemp(dir))
        return 1;
    int failed = unit_run("convert", NULL, NULL, tests,
                          sizeof tests / sizeof tests[0]);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        failed = 1;
    return failed;
}
