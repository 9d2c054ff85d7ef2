"""Comment styles the annotated view must handle (tests/test_annotate.py); never imported."""
# ruff: noqa


def f(*args):
    return args


add = f


# --8<-- [start:strings]
def strings(g):
    """A docstring with a hash:
    not a comment # inside a docstring
    """
    label = "step # 1"  # a '#' in a string is code, this is the comment
    other = 'x#y'
    fmt = f"{g!r} # {label}"  # f-string with a hash
    return label, other, fmt  ## doubled hash
# --8<-- [end:strings]


# --8<-- [start:blocks]
def blocks(g, m, v, beta1, amsgrad):
    # The first moment: a moving average of the gradient,
    # over about 1/(1-β1) steps.
    m = beta1 * m + (1 - beta1) * g  # $m_t$

    # Paragraph one.
    #
    # Paragraph two, after an empty comment line.
    v = v + g * g  # `v` grows
    # - a bullet
    # - another
    total = add(
        m,
        v,
    )
    if amsgrad:
        v = max(v, total)  # AMSGrad
    # --8<-- [start:inner]
    nested = 1  # a nested section's markers are not shown
    # --8<-- [end:inner]
    return v, nested
    # a comment after the last line of code
# --8<-- [end:blocks]


# --8<-- [start:unclosed]
x = f(1,  # the call goes on
      2,
# --8<-- [end:unclosed]
      3)
