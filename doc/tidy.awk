# Tidies scdoc 1.11's roff for mandoc -T lint: drops the paragraph macros
# that do nothing (right after .TH/.SH/.RS/.P, or right before .SH/.SS/.P),
# and moves the one scdoc puts before a list item's .RE after it, where it
# still spaces the items apart. Every other line passes unchanged.
function flush() { if (pending) print ".P"; pending = 0 }
/^\.P$/ {
	if (!pending && prev !~ /^\.(TH|SH|SS|RS|P)( |$)/) pending = 1
	next
}
/^\.RE( |$)/ { print; prev = $0; next }
/^\.(SH|SS)( |$)/ { pending = 0 }
{ flush(); print; prev = $0 }
