/* quantity.h - Kubernetes resource quantities ("250m", "1", "1500000n", "2Ki") as CPU millicores.
 */
#ifndef VIEW_QUANTITY_H
#define VIEW_QUANTITY_H

/*
 * Parse a quantity in the API's canonical forms (decimal SI suffixes n u m "" k M G T P E,
 * binary suffixes Ki Mi Gi Ti Pi Ei, or a decimal exponent e3 / E-3) and convert it to
 * millicores, rounded up like resource.Quantity.MilliValue (1500000n -> 2). Negative values,
 * spaces, unknown suffixes and results above 10^15 are refused. 0 on success, -1 otherwise.
 * Pure.
 */
int quantity_millicores(const char *s, long long *out);

#endif
