# Reads a ddclient.conf with ddclient's own parser (Debian's /usr/bin/ddclient, loaded as a library:
# it does not run when required) and exits 1 when ddclient warns about it: an unknown keyword, an
# invalid value, a file others may read. Nothing is sent, no address is looked up.
# Usage: perl check-config.pl FILE
use strict;
use warnings;

my $file = shift @ARGV or die "usage: $0 FILE\n";
require '/usr/bin/ddclient';
my $warned = 0;
{
    no warnings 'redefine';
    my $original = \&ddclient::warning;
    *ddclient::warning = sub { $warned = 1; $original->(@_) };
}
my (%hosts, %globals);
ddclient::read_config($file, \%hosts, \%globals);
if (!%hosts) {
    print STDERR "$file names no host to update\n";
    exit 1;
}
exit($warned ? 1 : 0);
