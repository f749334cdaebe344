/* Statistics behind the overload detectors, computed the way CloudSim 3.0.3
 * computes them (its MathUtil over Apache Commons Math), so that the
 * detectors cross their thresholds at the same points. */
#include "sim_int.h"

#include <math.h>

/* Insertion sort: the detectors sort at most 30 values, many times. */
static void sort_small(double *a, int n)
{
    for (int i = 1; i < n; i++) {
        double x = a[i];
        int j = i;
        while (j > 0 && a[j - 1] > x) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

double ct_sim__median(double *a, int n)
{
    double pos, fpos;
    int ipos;

    if (n <= 0)
        return NAN;
    sort_small(a, n);
    if (n == 1)
        return a[0];
    /* Percentile's legacy estimate: position p * (n + 1), interpolated. */
    pos = 0.5 * (n + 1);
    fpos = floor(pos);
    ipos = (int)fpos;
    if (pos < 1)
        return a[0];
    if (pos >= n)
        return a[n - 1];
    return a[ipos - 1] + (pos - fpos) * (a[ipos] - a[ipos - 1]);
}

double ct_sim__iqr(double *a, int n)
{
    int q1 = (int)floor(0.25 * (n + 1) + 0.5) - 1;
    int q3 = (int)floor(0.75 * (n + 1) + 0.5) - 1;

    sort_small(a, n);
    return a[q3] - a[q1];
}

double ct_sim__mad(double *a, int n)
{
    double med, dev[SIM_HIST];

    if (n <= 0)
        return 0;
    if (n > SIM_HIST)
        n = SIM_HIST;
    med = ct_sim__median(a, n);
    for (int i = 0; i < n; i++)
        dev[i] = fabs(med - a[i]);
    return ct_sim__median(dev, n);
}

void ct_sim__regress(double *b0, double *b1, const double *y, int n)
{
    double xbar = 0, ybar = 0, sxx = 0, sxy = 0, sx = 0, sy = 0, slope;

    /* SimpleRegression's updating formulas, in its order of operations. */
    for (int i = 0; i < n; i++) {
        double x = i + 1;
        if (i == 0) {
            xbar = x;
            ybar = y[i];
        } else {
            double fact1 = 1.0 + i, fact2 = i / (1.0 + i);
            double dx = x - xbar, dy = y[i] - ybar;
            sxx += dx * dx * fact2;
            sxy += dx * dy * fact2;
            xbar += dx / fact1;
            ybar += dy / fact1;
        }
        sx += x;
        sy += y[i];
    }
    slope = n >= 2 ? sxy / sxx : NAN;
    *b1 = slope;
    *b0 = (sy - slope * sx) / n;
}
