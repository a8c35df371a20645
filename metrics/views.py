from django.http import HttpResponse


def overview(request):
    return HttpResponse()


def drilldown(request):
    return HttpResponse()
