/* unit_cunit.h - the one way the serial CUnit suites run: register a table
 * of tests in one suite, run them verbosely, and turn the outcome into the
 * exit status ctest reads (0 when every test passed). */
#ifndef UNIT_CUNIT_H
#define UNIT_CUNIT_H

#include <stddef.h>
#include <CUnit/Basic.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} unit_test;

static inline int unit_run(const char *suite, CU_InitializeFunc init,
                           CU_CleanupFunc clean, const unit_test *tests,
                           size_t n)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite(suite, init, clean);
    for (size_t j = 0; s && j < n; j++)
        if (!CU_add_test(s, tests[j].name, tests[j].fn))
            s = NULL;
    if (!s) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    /* read before cleanup, which resets the run summary */
    int failed = CU_get_number_of_failures() != 0 ||
                 CU_get_number_of_suites_failed() != 0 ||
                 CU_get_error() != CUE_SUCCESS;
    CU_cleanup_registry();
    return failed;
}

#endif
